// A model's artifacts in memory, through tfjs's own save path (tf.io.withSaveHandler), for save/reload tests
// (`tfl.loadLayersModel(tf.io.fromMemory(artifacts))`).
import * as tf from '@tensorflow/tfjs-core';

/** Anything with a tfjs `save(handler)`: a `tf.LayersModel`, a `tf.GraphModel`. */
export interface SavesToHandler {
  save(handler: tf.io.IOHandler): Promise<tf.io.SaveResult>;
}

/** The artifacts `model.save` writes (topology, weight specs and data, metadata), kept in memory. */
export async function saveToMemory(model: SavesToHandler): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts) throw new Error('saveToMemory: model.save returned without calling the save handler');
  return artifacts;
}
