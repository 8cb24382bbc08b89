// The camera: which world point is at the canvas' top-left corner. Pure functions.

// The tutorial's map (21 x 13 tiles of 64 px). The server does not tell the client its world
// size; this is cmmo's default (--world) and the area the camera keeps in view.
export const WORLD_WIDTH = 1344;
export const WORLD_HEIGHT = 832;
export const TILE_SIZE = 64;
// The camera may show this much ground beyond the map's edges, so that an actor standing on the
// edge (new players spawn at (0, 0)) is drawn whole, name tag included.
export const EDGE_MARGIN = 96;

// One axis: center the map when the view is wider than map plus margins, else follow `focus`
// and stay within the margins.
function axisOrigin(view, world, focus, margin) {
  if (view >= world + 2 * margin) return (world - view) / 2;
  const origin = focus - view / 2;
  return Math.min(Math.max(origin, -margin), world + margin - view);
}

// The world point drawn at the view's top-left corner, for a view of viewWidth x viewHeight
// CSS pixels following `focus` ({x, y}).
export function cameraOrigin(viewWidth, viewHeight, focus, world = { width: WORLD_WIDTH, height: WORLD_HEIGHT }, margin = EDGE_MARGIN) {
  return {
    x: axisOrigin(viewWidth, world.width, focus.x, margin),
    y: axisOrigin(viewHeight, world.height, focus.y, margin),
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
