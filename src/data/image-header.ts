// Whether a PNG or JPEG file stores grey pixels, read from its header bytes. sharp would tell us through
// metadata(), but that is a second native call per image, about a third of the decode time for small images.

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** true for grey (with or without alpha), false for colour, undefined when the header is not understood. */
export function isGreyImage(bytes: Uint8Array): boolean | undefined {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
    // IHDR is always the first chunk; its colour type is byte 25 of the file: 0 grey, 4 grey + alpha.
    const colourType = bytes[25];
    return colourType === undefined ? undefined : colourType === 0 || colourType === 4;
  }
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  // JPEG: walk the marker segments up to the start-of-frame, whose component count is 1 for grey.
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return bytes[i + 9] === 1;
    i += 2 + ((bytes[i + 2]! << 8) | bytes[i + 3]!);
  }
  return undefined;
}
