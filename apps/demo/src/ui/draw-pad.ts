// A canvas to draw a digit on (white ink on black, as MNIST), reporting the drawing after each stroke.

/** Side of the drawing canvas in pixels. */
export const PAD_SIZE = 196;

/** Wires drawing on `canvas`; `onStroke` gets the RGBA pixels after each stroke. */
export function drawPad(canvas: HTMLCanvasElement, onStroke: (rgba: Uint8ClampedArray) => void): { clear(): void } {
  canvas.width = canvas.height = PAD_SIZE;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, PAD_SIZE, PAD_SIZE);
  };
  clear();
  let last: [number, number] | null = null;
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * PAD_SIZE) / r.width, ((e.clientY - r.top) * PAD_SIZE) / r.height];
  };
  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 14;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
  });
  const end = () => {
    if (!last) return;
    last = null;
    onStroke(ctx.getImageData(0, 0, PAD_SIZE, PAD_SIZE).data);
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  return { clear };
}

/** Paints a 28×28 image in [0, 1] onto a small canvas. */
export function paintImage(canvas: HTMLCanvasElement, pixels: Float32Array): void {
  canvas.width = canvas.height = 28;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(pixels[i]! * 255);
    img.data.set([v, v, v, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
}
