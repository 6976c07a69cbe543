/**
 * The worker asks the generator for a picture at most this often during a drag (~15 frames a
 * second: enough to watch, and for the GIF); the steps in between run the GAN without the blocks
 * above its features. The speed benchmark drags the Node runtimes the same way.
 */
export const LIVE_IMAGE_INTERVAL_MS = 66;
