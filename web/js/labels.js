// Places name tags so that they do not cover each other: a tag that would overlap one already
// placed moves up above it. Pure function, no DOM.

const GAP = 2; // px between stacked tags
const MAX_MOVES = 12; // a crowd taller than this many tags just overlaps; bounded work per frame

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

// boxes: [{x, y, w, h, first}] in screen or world pixels, y being where the tag wants to be.
// Tags with `first` set (the own player's) keep their place; the others are placed nearest-first
// (largest y first). Returns new boxes in the same order, with y adjusted.
export function layoutLabels(boxes) {
  const order = boxes
    .map((box, index) => ({ box, index }))
    .sort((a, b) => (b.box.first ? 1 : 0) - (a.box.first ? 1 : 0) || b.box.y - a.box.y);
  const placed = [];
  const result = new Array(boxes.length);
  for (const { box, index } of order) {
    const b = { ...box };
    for (let moves = 0; moves < MAX_MOVES; moves++) {
      const hit = placed.find((p) => overlaps(b, p));
      if (!hit) break;
      b.y = hit.y - b.h - GAP;
    }
    placed.push(b);
    result[index] = b;
  }
  return result;
}
