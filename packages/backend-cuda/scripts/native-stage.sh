# Shared by build-native-binding.sh and build-native-gpu.sh (sourced; needs $pkg, the backend-cuda folder).

# stage <installed package dir> <copy dir> <libtensorflow folder name beside the copy>: a copy of a tfjs-node
# package (package.json, binding.gyp, binding/, dist/) with deps/{lib,include} -> ../../<libtensorflow folder>
# and a node_modules/ of links to its installed dependencies plus the project's single tfjs-core.
stage() {
  local src="$1" dest="$2" tf="$3"
  rm -rf "$dest" && mkdir -p "$dest/deps" "$dest/node_modules"
  cp -r "$src/package.json" "$src/binding.gyp" "$src/binding" "$src/dist" "$dest/"
  ln -s "../../$tf/lib" "$dest/deps/lib"
  ln -s "../../$tf/include" "$dest/deps/include"
  # Every runtime dependency, plus tfjs-core (required by one kernel file; pnpm hoists it) resolved from
  # this package so that the copy shares the project's single tfjs-core.
  (cd "$pkg" && SRC="$src" DEST="$dest" node -e '
    const { createRequire } = require("module"); const fs = require("fs"); const path = require("path");
    const fromSrc = createRequire(path.join(process.env.SRC, "package.json"));
    const deps = Object.keys(require(path.join(process.env.SRC, "package.json")).dependencies);
    const dirOf = (req, name) => fs.realpathSync(path.dirname(req.resolve(name + "/package.json")));
    const links = deps.map((d) => [d, dirOf(fromSrc, d)]).concat([["@tensorflow/tfjs-core", dirOf(require, "@tensorflow/tfjs-core")]]);
    for (const [name, dir] of links) {
      const link = path.join(process.env.DEST, "node_modules", name);
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync(dir, link);
    }')
}
