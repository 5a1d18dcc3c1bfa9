// The microphone's AudioWorklet processor (frontend/src/voice/microphone.ts): downmixes to mono and posts
// blocks of `processorOptions.block` samples to the main thread. Loaded as a file of the build (imported
// with `?url`), not a Blob URL, so the app's Content-Security-Policy (script-src 'self') allows it.
class OctoCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.block = options.processorOptions.block;
    this.buf = new Float32Array(this.block);
    this.n = 0;
  }
  process(inputs) {
    const input = inputs[0];
    if (input && input.length) {
      const a = input[0], b = input[1];
      for (let i = 0; i < a.length; i++) {
        this.buf[this.n++] = b ? (a[i] + b[i]) / 2 : a[i];
        if (this.n === this.buf.length) {
          this.port.postMessage(this.buf, [this.buf.buffer]);
          this.buf = new Float32Array(this.block);
          this.n = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor("octo-capture", OctoCapture);
