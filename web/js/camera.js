// The camera: which world point is at the canvas' top-left corner. Pure functions.

// The tutorial's map (21 x 13 tiles of 64 px), cmmo's default --world. A server that speaks
// cmmo.v2 tells the client its real size with a World packet right after login
// (docs/PROTOCOL.md, cmmo.v2); until then, and on a legacy server that never does, the client
// assumes this one. The world size is the area the camera keeps in view and clicks are clamped to.
export const WORLD_WIDTH = 1344;
export const WORLD_HEIGHT = 832;
export const DEFAULT_WORLD = Object.freeze({ width: WORLD_WIDTH, height: WORLD_HEIGHT });
export const TILE_SIZE = 64;
// How much ground beyond the map's edges the camera may show, so that an actor standing on an edge
// (new players spawn at (0, 0)) is drawn whole: name tag and marker above the sprite, clear of the
// HUD at the top; at the bottom, clear of the chat panel over the bottom third of the screen.
export const EDGE_MARGIN = 96;
export const TOP_MARGIN = 160;
export function defaultMargins(viewHeight) {
  return { left: EDGE_MARGIN, right: EDGE_MARGIN, top: TOP_MARGIN, bottom: Math.round(viewHeight * 0.34) + 40 };
}

// One axis: center the map when the view is larger than map plus margins, else keep `focus` at
// `anchor` (a fraction of the view) and the view within the margins.
function axisOrigin(view, world, focus, marginLow, marginHigh, anchor) {
  if (view >= world + marginLow + marginHigh) return (world + marginHigh - marginLow - view) / 2;
  const origin = focus - view * anchor;
  return Math.min(Math.max(origin, -marginLow), world + marginHigh - view);
}

// The world point drawn at the view's top-left corner, for a view of viewWidth x viewHeight
// CSS pixels following `focus` ({x, y}). The player is kept a little above the middle, because
// the chat covers the bottom of the screen.
export function cameraOrigin(
  viewWidth,
  viewHeight,
  focus,
  world = DEFAULT_WORLD,
  margins = defaultMargins(viewHeight),
) {
  return {
    x: axisOrigin(viewWidth, world.width, focus.x, margins.left, margins.right, 0.5),
    y: axisOrigin(viewHeight, world.height, focus.y, margins.top, margins.bottom, 0.4),
  };
}

// A point on the screen (CSS pixels in the canvas) as a point in the world, clamped to the map:
// the server clamps targets to the world, so the prediction must aim at the same point.
export function screenToWorld(sx, sy, origin, world = DEFAULT_WORLD) {
  return {
    x: Math.min(Math.max(sx + origin.x, 0), world.width),
    y: Math.min(Math.max(sy + origin.y, 0), world.height),
  };
}

// The tiles of `tileSize` px a view of viewWidth x viewHeight at `origin` shows, as inclusive
// index ranges {x0, y0, x1, y1}: drawing the ground costs the view's size, not the world's (a
// 16000 x 16000 world is 62,500 tiles of 64 px; a phone shows about 100).
export function visibleTiles(origin, viewWidth, viewHeight, tileSize = TILE_SIZE) {
  return {
    x0: Math.floor(origin.x / tileSize),
    y0: Math.floor(origin.y / tileSize),
    x1: Math.floor((origin.x + viewWidth) / tileSize),
    y1: Math.floor((origin.y + viewHeight) / tileSize),
  };
}
