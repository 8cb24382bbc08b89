// The camera: which world point is at the canvas' top-left corner. Pure functions.

// The tutorial's map (21 x 13 tiles of 64 px). The server does not tell the client its world
// size; this is cmmo's default (--world) and the area the camera keeps in view.
export const WORLD_WIDTH = 1344;
export const WORLD_HEIGHT = 832;
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
  world = { width: WORLD_WIDTH, height: WORLD_HEIGHT },
  margins = defaultMargins(viewHeight),
) {
  return {
    x: axisOrigin(viewWidth, world.width, focus.x, margins.left, margins.right, 0.5),
    y: axisOrigin(viewHeight, world.height, focus.y, margins.top, margins.bottom, 0.4),
  };
}

// A point on the screen (CSS pixels in the canvas) as a point in the world, clamped to the map:
// the server clamps targets to the world, so the prediction must aim at the same point.
export function screenToWorld(sx, sy, origin, world = { width: WORLD_WIDTH, height: WORLD_HEIGHT }) {
  return {
    x: Math.min(Math.max(sx + origin.x, 0), world.width),
    y: Math.min(Math.max(sy + origin.y, 0), world.height),
  };
}
