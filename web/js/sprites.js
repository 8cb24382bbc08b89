// The six avatars (0..5) and the ground, drawn by this file as pixel art: each sprite is painted
// on a small grid of colors, outlined automatically, then scaled up onto a canvas and cached.
// Browser only (canvas); nothing here is game logic.

// Logical sprite size in art pixels, plus a one-pixel border for the outline.
const ART_W = 16;
const ART_H = 22;
const GRID_W = ART_W + 2;
const GRID_H = ART_H + 2;
export const SPRITE_SCALE = 3;
export const SPRITE_WIDTH = GRID_W * SPRITE_SCALE; // 54 CSS px
export const SPRITE_HEIGHT = GRID_H * SPRITE_SCALE; // 72 CSS px
// The art pixel row the feet stand on, in sprite pixels from the top: the actor's position.
export const SPRITE_FOOT_Y = (ART_H + 1) * SPRITE_SCALE;
export const WALK_FRAMES = 4;

const OUTLINE = '#1c1826';
const EYE = '#231c2c';

export const AVATARS = [
  { name: 'Knight', style: 'helmet', skin: '#f2c28e', hair: '#6b4423', helm: '#b9c2cc', helmDark: '#7f8a96',
    top: '#3461c4', topDark: '#24468f', trim: '#e9c04a', legs: '#6c7580', shoes: '#3d4249', accent: '#e0413a' },
  { name: 'Mage', style: 'wizard', skin: '#f6d0a8', hair: '#e9e9ef', hat: '#6d3fc6', hatDark: '#4c2a92',
    top: '#7b4fd6', topDark: '#55349e', trim: '#f7d54a', legs: '#55349e', shoes: '#3b2a5c', accent: '#ffe066', robe: true },
  { name: 'Ranger', style: 'hood', skin: '#e0a878', hair: '#4a2f1b', hood: '#3e9a45', hoodDark: '#2a6d30',
    top: '#8d5a2e', topDark: '#643f1f', trim: '#d9b26a', legs: '#2f5a2c', shoes: '#4a2f1b' },
  { name: 'Villager', style: 'short', skin: '#f5cfa0', hair: '#f2c53d', hairDark: '#c79a1e',
    top: '#e8553f', topDark: '#b23a2a', trim: '#fff1d6', legs: '#4f6fb0', shoes: '#5a3a22' },
  { name: 'Rogue', style: 'rogue', skin: '#c98d62', hair: '#1f1f27', hood: '#43435a', hoodDark: '#2d2d3d',
    top: '#30303f', topDark: '#222230', trim: '#c9a45a', legs: '#26262f', shoes: '#17171d', accent: '#d2373f' },
  { name: 'Cleric', style: 'long', skin: '#fbe0c4', hair: '#ff8cc6', hairDark: '#d9609f',
    top: '#f6f2e8', topDark: '#d6cfbf', trim: '#e5b53a', legs: '#d6cfbf', shoes: '#a88a4a', accent: '#e5b53a', robe: true },
];

class Grid {
  constructor() {
    this.cells = Array.from({ length: GRID_H }, () => new Array(GRID_W).fill(null));
  }
  // Fills art pixels (x, y) .. (x+w-1, y+h-1); art coordinates, offset by the outline border.
  rect(x, y, w, h, color) {
    for (let j = y; j < y + h; j++) {
      for (let i = x; i < x + w; i++) {
        const gx = i + 1;
        const gy = j + 1;
        if (gx >= 0 && gx < GRID_W && gy >= 0 && gy < GRID_H) this.cells[gy][gx] = color;
      }
    }
  }
  px(x, y, color) {
    this.rect(x, y, 1, 1, color);
  }
  // Every empty cell next to a painted one becomes outline.
  outline() {
    const painted = (x, y) => x >= 0 && x < GRID_W && y >= 0 && y < GRID_H && this.cells[y][x] !== null && this.cells[y][x] !== OUTLINE;
    const add = [];
    for (let y = 0; y < GRID_H; y++) {
      for (let x = 0; x < GRID_W; x++) {
        if (this.cells[y][x] === null && (painted(x - 1, y) || painted(x + 1, y) || painted(x, y - 1) || painted(x, y + 1))) add.push([x, y]);
      }
    }
    for (const [x, y] of add) this.cells[y][x] = OUTLINE;
  }
  mirrored() {
    const m = new Grid();
    m.cells = this.cells.map((row) => row.slice().reverse());
    return m;
  }
}

// ---- The front (walking down) and back (walking up) views -------------------------------------

function paintFrontOrBack(g, av, frame, back) {
  const stride = frame % 2 === 1;
  const leftUp = frame === 1;
  const rightUp = frame === 3;
  const bob = stride ? 1 : 0;

  // legs and shoes (a lifted leg is one pixel shorter)
  if (!av.robe) {
    g.rect(5, 19, 2, leftUp ? 1 : 2, av.legs);
    g.rect(9, 19, 2, rightUp ? 1 : 2, av.legs);
  }
  g.rect(4, leftUp ? 20 : 21, 3, 1, av.shoes);
  g.rect(9, rightUp ? 20 : 21, 3, 1, av.shoes);
  if (av.robe) {
    g.rect(4, 17 + bob, 8, 4 - bob, av.top);
    g.rect(3, 19, 10, 1, av.top);
    g.rect(3, 20, 10, 1, av.topDark);
    g.rect(10, 17 + bob, 2, 3 - bob, av.topDark);
  }

  // torso
  g.rect(4, 13 + bob, 8, 6, av.top);
  g.rect(10, 13 + bob, 2, 6, av.topDark);
  g.rect(4, 17 + bob, 8, 1, av.trim); // belt
  if (!back && av.style === 'helmet') g.rect(7, 13 + bob, 2, 4, av.trim); // tabard stripe
  if (!back && av.style === 'long') g.rect(7, 14 + bob, 2, 3, av.trim); // cleric's sash

  // arms swing opposite to the legs
  const la = leftUp ? -1 : rightUp ? 1 : 0;
  g.rect(2, 13 + bob + la, 2, 4, av.topDark);
  g.rect(2, 17 + bob + la, 2, 1, av.skin);
  g.rect(12, 13 + bob - la, 2, 4, av.topDark);
  g.rect(12, 17 + bob - la, 2, 1, av.skin);

  // head
  const hy = 5 + bob;
  g.rect(4, hy, 8, 8, av.skin);
  if (!back) {
    g.rect(5, hy + 4, 2, 2, EYE);
    g.rect(9, hy + 4, 2, 2, EYE);
    g.px(5, hy + 4, '#ffffff');
    g.px(9, hy + 4, '#ffffff');
    g.rect(4, hy + 6, 1, 1, '#f29a8e');
    g.rect(11, hy + 6, 1, 1, '#f29a8e');
  }
  paintHeadwear(g, av, hy, back ? 'back' : 'front', frame);
}

function paintHeadwear(g, av, hy, view, frame) {
  const back = view === 'back';
  const side = view === 'side';
  switch (av.style) {
    case 'short':
      g.rect(3, hy - 1, 10, 3, av.hair);
      g.rect(3, hy + 2, 1, back ? 5 : 3, av.hair);
      g.rect(12, hy + 2, 1, back ? 5 : 3, av.hair);
      if (back) g.rect(4, hy + 2, 8, 5, av.hair);
      else if (side) g.rect(3, hy + 2, 4, 4, av.hair);
      else {
        g.rect(5, hy + 2, 2, 1, av.hair);
        g.px(9, hy + 2, av.hair);
      }
      g.rect(4, hy - 1, 3, 1, av.hairDark);
      break;
    case 'long':
      g.rect(3, hy - 1, 10, 3, av.hair);
      g.rect(2, hy + 1, 2, 9, av.hair);
      g.rect(12, hy + 1, 2, 9, av.hair);
      g.rect(2, hy + 8, 2, 2, av.hairDark);
      g.rect(12, hy + 8, 2, 2, av.hairDark);
      if (back) g.rect(4, hy + 2, 8, 8, av.hair);
      else if (side) g.rect(3, hy + 2, 4, 8, av.hair);
      g.rect(5, hy - 1, 6, 1, av.accent); // circlet
      g.px(7, hy - 1, '#ffffff');
      break;
    case 'hood':
    case 'rogue':
      g.rect(3, hy - 2, 10, 3, av.hood);
      g.rect(2, hy, 2, 9, av.hood);
      g.rect(12, hy, 2, 9, av.hood);
      g.rect(12, hy + 1, 2, 8, av.hoodDark);
      if (back) g.rect(4, hy + 1, 8, 8, av.hood);
      else if (side) g.rect(3, hy + 1, 5, 8, av.hood);
      else g.rect(4, hy + 1, 8, 1, av.hoodDark);
      if (av.style === 'hood') g.rect(6, hy - 3, 4, 1, av.hood);
      if (av.style === 'rogue') {
        if (!back) g.rect(side ? 8 : 4, hy + 6, side ? 5 : 8, 2, av.accent); // mask scarf
        g.rect(side ? 4 : 12, hy + 8, 2, 3 + (frame % 2), av.accent); // scarf tail
      }
      break;
    case 'helmet':
      g.rect(3, hy - 1, 10, 4, av.helm);
      g.rect(3, hy + 3, 2, 6, av.helm);
      g.rect(11, hy + 3, 2, 6, av.helmDark);
      if (back) g.rect(4, hy + 3, 8, 5, av.helm);
      else if (side) g.rect(3, hy + 3, 5, 5, av.helm);
      else g.rect(5, hy + 2, 6, 1, av.helmDark); // visor edge
      g.rect(7, hy - 4, 2, 3, av.accent); // plume
      g.rect(side ? 5 : 8, hy - 5, 2, 2, av.accent);
      break;
    case 'wizard':
      if (!back) g.rect(side ? 9 : 5, hy + 6, side ? 4 : 6, 4, av.hair); // beard
      if (back) g.rect(4, hy + 2, 8, 6, av.hair);
      else if (side) g.rect(4, hy + 2, 3, 5, av.hair);
      g.rect(1, hy + 1, 14, 1, av.hatDark); // brim
      g.rect(3, hy, 10, 1, av.hat);
      g.rect(4, hy - 1, 8, 1, av.hat);
      g.rect(5, hy - 2, 6, 1, av.hat);
      g.rect(6, hy - 3, 4, 1, av.hat);
      g.rect(7, hy - 4, 3, 1, av.hat);
      g.rect(9, hy - 5, 2, 1, av.hat);
      g.px(11, hy - 5, av.hatDark);
      if (!back) g.px(side ? 8 : 7, hy - 2, av.accent); // star
      break;
  }
}

// ---- The side view (walking right; left is its mirror) ----------------------------------------

function paintSide(g, av, frame) {
  const stride = frame % 2 === 1;
  const bob = stride ? 1 : 0;
  // legs: together on frames 0 and 2, apart on 1 and 3 (which leg leads alternates by shade)
  const front = frame === 1 ? av.legs : av.topDark;
  const rear = frame === 1 ? av.topDark : av.legs;
  if (stride) {
    if (!av.robe) {
      g.rect(4, 19, 2, 2, rear);
      g.rect(10, 19, 2, 2, front);
    }
    g.rect(3, 21, 3, 1, av.shoes);
    g.rect(10, 21, 3, 1, av.shoes);
  } else {
    if (!av.robe) g.rect(7, 19, 3, 2, av.legs);
    g.rect(7, 21, 4, 1, av.shoes);
  }
  if (av.robe) {
    g.rect(5, 17 + bob, 7, 3 - bob, av.top);
    g.rect(4, 19, 9, 1, av.top);
    g.rect(4, 20, 9, 1, av.topDark);
  }
  g.rect(5, 13 + bob, 7, 6, av.top);
  g.rect(5, 13 + bob, 2, 6, av.topDark);
  g.rect(5, 17 + bob, 7, 1, av.trim);
  // the near arm swings forward and back
  const ax = frame === 1 ? 9 : frame === 3 ? 5 : 7;
  g.rect(ax, 13 + bob, 2, 4, av.topDark);
  g.rect(ax, 17 + bob, 2, 1, av.skin);

  const hy = 5 + bob;
  g.rect(4, hy, 8, 8, av.skin);
  g.px(12, hy + 5, av.skin); // nose
  g.rect(9, hy + 4, 2, 2, EYE);
  g.px(10, hy + 4, '#ffffff');
  g.px(9, hy + 6, '#f29a8e');
  paintHeadwear(g, av, hy, 'side', frame);
}

// ---- Cache ------------------------------------------------------------------------------------

const cache = new Map();

function gridToCanvas(grid) {
  const canvas = document.createElement('canvas');
  canvas.width = SPRITE_WIDTH;
  canvas.height = SPRITE_HEIGHT;
  const ctx = canvas.getContext('2d');
  for (let y = 0; y < GRID_H; y++) {
    for (let x = 0; x < GRID_W; x++) {
      const c = grid.cells[y][x];
      if (c === null) continue;
      ctx.fillStyle = c;
      ctx.fillRect(x * SPRITE_SCALE, y * SPRITE_SCALE, SPRITE_SCALE, SPRITE_SCALE);
    }
  }
  return canvas;
}

// The sprite canvas for avatar 0..5, direction 'down'|'up'|'left'|'right', walk frame 0..3
// (frame 0 is the standing pose).
export function avatarSprite(avatar, direction, frame) {
  const key = `${avatar}:${direction}:${frame}`;
  let canvas = cache.get(key);
  if (canvas) return canvas;
  const av = AVATARS[avatar] ?? AVATARS[0];
  let grid = new Grid();
  if (direction === 'left' || direction === 'right') paintSide(grid, av, frame);
  else paintFrontOrBack(grid, av, frame, direction === 'up');
  grid.outline();
  if (direction === 'left') grid = grid.mirrored();
  canvas = gridToCanvas(grid);
  cache.set(key, canvas);
  return canvas;
}

// ---- Ground -----------------------------------------------------------------------------------

export const GROUND_TILE = 64;
const GROUND_PIXEL = 4; // ground art pixels are 4x4 screen pixels: 16 x 16 per tile
const GROUND_VARIANTS = 8;

// A small deterministic PRNG, so the ground looks the same on every device and every frame.
function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Which ground variant a tile uses: a hash of its coordinates.
export function groundVariant(tx, ty) {
  let h = Math.imul(tx, 374761393) + Math.imul(ty, 668265263);
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) % GROUND_VARIANTS;
}

const GRASS = ['#6aae4f', '#64a84a', '#70b554', '#5f9f46'];
const BLADE = '#4e8c3c';
const LIGHT = '#86c765';
const FLOWERS = ['#fff6e0', '#ffd84a', '#ff8fb1', '#9fd3ff'];

let groundTiles = null;

function paintGroundTile(variant) {
  const canvas = document.createElement('canvas');
  canvas.width = GROUND_TILE;
  canvas.height = GROUND_TILE;
  const ctx = canvas.getContext('2d');
  const rnd = mulberry32(variant * 7919 + 17);
  const n = GROUND_TILE / GROUND_PIXEL;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const r = rnd();
      ctx.fillStyle = r < 0.55 ? GRASS[0] : r < 0.8 ? GRASS[1] : r < 0.93 ? GRASS[2] : GRASS[3];
      ctx.fillRect(x * GROUND_PIXEL, y * GROUND_PIXEL, GROUND_PIXEL, GROUND_PIXEL);
    }
  }
  const dot = (x, y, c) => {
    ctx.fillStyle = c;
    ctx.fillRect(((x + n) % n) * GROUND_PIXEL, ((y + n) % n) * GROUND_PIXEL, GROUND_PIXEL, GROUND_PIXEL);
  };
  // grass tufts: a dark blade with a light tip
  const tufts = 3 + Math.floor(rnd() * 3);
  for (let i = 0; i < tufts; i++) {
    const x = Math.floor(rnd() * n);
    const y = Math.floor(rnd() * n);
    dot(x, y, BLADE);
    dot(x + 1, y - 1, BLADE);
    dot(x - 1, y - 1, BLADE);
    dot(x, y - 1, LIGHT);
  }
  if (variant % 4 === 1) {
    // a flower
    const x = 2 + Math.floor(rnd() * (n - 4));
    const y = 2 + Math.floor(rnd() * (n - 4));
    const c = FLOWERS[Math.floor(rnd() * FLOWERS.length)];
    dot(x - 1, y, c);
    dot(x + 1, y, c);
    dot(x, y - 1, c);
    dot(x, y + 1, c);
    dot(x, y, '#f7b733');
  } else if (variant === 6) {
    // a pebble
    const x = 2 + Math.floor(rnd() * (n - 4));
    const y = 2 + Math.floor(rnd() * (n - 4));
    dot(x, y, '#a9a39a');
    dot(x + 1, y, '#8f897f');
    dot(x, y - 1, '#c9c3b8');
  }
  return canvas;
}

// The ground tile canvas for tile (tx, ty).
export function groundTile(tx, ty) {
  if (!groundTiles) groundTiles = Array.from({ length: GROUND_VARIANTS }, (_, v) => paintGroundTile(v));
  return groundTiles[groundVariant(tx, ty)];
}
