import { describe, expect, it } from 'vitest';
import { checkPhotoFile, MAX_PHOTO_BYTES } from './photo-file.js';

describe('checkPhotoFile', () => {
  it('accepts PNG and JPEG by type, or by name when the browser gives no type', () => {
    expect(checkPhotoFile({ name: 'a.png', type: 'image/png', size: 1000 })).toBeNull();
    expect(checkPhotoFile({ name: 'a.JPG', type: '', size: 1000 })).toBeNull();
    expect(checkPhotoFile({ name: 'b.jpeg', type: 'image/jpeg', size: 1000 })).toBeNull();
  });

  it('refuses other files and oversized ones in one line that says what to do', () => {
    const pdf = checkPhotoFile({ name: 'notes.pdf', type: 'application/pdf', size: 1000 });
    expect(pdf).toMatch(/not a PNG or JPEG image \(application\/pdf\); choose a \.png or \.jpg/);
    expect(checkPhotoFile({ name: 'x.gif', type: 'image/gif', size: 10 })).toMatch(/not a PNG or JPEG/);
    const big = checkPhotoFile({ name: 'huge.png', type: 'image/png', size: MAX_PHOTO_BYTES + 1 });
    expect(big).toMatch(/MB are accepted\. Save a smaller copy/);
    for (const m of [pdf, big]) expect(m).not.toContain('\n');
  });
});
