import { createEncoderRuntime, loadEncoderFolder, type EncoderRuntime } from '../../src/model/index.js';

/** Runs `f` on an encoder runtime of `folder` (its `variant` files), released afterwards. */
export async function withRuntime<T>(folder: string, f: (rt: EncoderRuntime) => Promise<T>, variant?: string): Promise<T> {
  const rt = await createEncoderRuntime(loadEncoderFolder(folder, { variant }));
  try {
    return await f(rt);
  } finally {
    await rt.release();
  }
}
