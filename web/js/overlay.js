// Draws what goes over the world after render.js: chat bubbles above their speakers, and arrows at
// the edge of the screen pointing to the players outside it (with their names). Browser only; the
// geometry is in v2.js (tested).

import { SPRITE_FOOT_Y } from './sprites.js';
import { offscreenArrow } from './v2.js';

const BUBBLE_WIDTH_MAX = 200;
const BUBBLE_LINES_MAX = 3;
const BUBBLE_LINE_HEIGHT = 16;
// Room above the feet for the sprite and its name tag (render.js draws the tag 22 px tall).
const ABOVE_HEAD = SPRITE_FOOT_Y + 30;
// More arrows than this are clutter: the nearest ones are drawn (the list has everyone).
const ARROWS_MAX = 8;

// ctx: the world canvas' context; view: {dpr, width, height} (the Renderer); views: the actors
// as drawn (session.actorsAt); origin: the camera; bubbles: a v2.js Bubbles; area: the part of
// the screen the arrows stay in ({left, top, right, bottom}); now: ms.
// Returns what it drew, for the page's snapshot: {bubbles: [name], arrows: [name]}.
export function drawOverlay(ctx, view, views, origin, bubbles, area, now) {
  ctx.save();
  ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
  const arrows = drawArrows(ctx, view, views, origin, area);
  ctx.translate(-Math.round(origin.x), -Math.round(origin.y));
  ctx.font = '14px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  const speakers = [];
  const top = Math.round(origin.y) + area.top; // world y of the free area's top
  for (const v of views) {
    const bubble = bubbles.at(v.name, now);
    if (!bubble) continue;
    drawBubble(ctx, v, bubble, top);
    speakers.push(v.name);
  }
  ctx.restore();
  return { bubbles: speakers, arrows };
}

// Splits text into lines no wider than BUBBLE_WIDTH_MAX (at spaces where it can), at most
// BUBBLE_LINES_MAX, the last cut with an ellipsis.
function wrap(ctx, text) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (ctx.measureText(next).width <= BUBBLE_WIDTH_MAX) {
      line = next;
      continue;
    }
    if (line) lines.push(line);
    line = word;
    // a word longer than a line is cut by characters
    while (ctx.measureText(line).width > BUBBLE_WIDTH_MAX) {
      const chars = Array.from(line);
      let n = chars.length - 1;
      while (n > 1 && ctx.measureText(chars.slice(0, n).join('')).width > BUBBLE_WIDTH_MAX) n--;
      lines.push(chars.slice(0, n).join(''));
      line = chars.slice(n).join('');
    }
  }
  if (line) lines.push(line);
  if (lines.length > BUBBLE_LINES_MAX) {
    lines.length = BUBBLE_LINES_MAX;
    lines[BUBBLE_LINES_MAX - 1] = `${lines[BUBBLE_LINES_MAX - 1].replace(/.$/u, '')}…`;
  }
  return lines;
}

// Above the speaker's head; when that would go under the HUD (a player near the map's top edge),
// beside the sprite instead, its tail pointing left at them.
function drawBubble(ctx, v, bubble, top) {
  const lines = wrap(ctx, bubble.text);
  const w = Math.ceil(Math.max(...lines.map((l) => ctx.measureText(l).width))) + 18;
  const h = lines.length * BUBBLE_LINE_HEIGHT + 12;
  let x = Math.round(v.x - w / 2);
  let y = Math.round(v.y - ABOVE_HEAD - h - 10);
  const beside = y < top;
  if (beside) {
    x = Math.round(v.x + 30);
    y = Math.round(Math.max(top, v.y - SPRITE_FOOT_Y / 2 - h / 2));
  }
  ctx.save();
  // fades out over the last fifth of its time
  ctx.globalAlpha = bubble.age > 0.8 ? (1 - bubble.age) / 0.2 : 1;
  ctx.fillStyle = v.own ? '#fff4c8' : '#ffffff';
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.35)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, 9);
  if (beside) {
    const ty = Math.min(y + h - 8, Math.max(y + 8, v.y - SPRITE_FOOT_Y / 2));
    ctx.moveTo(x, ty - 6);
    ctx.lineTo(x - 9, ty);
    ctx.lineTo(x, ty + 6);
  } else {
    ctx.moveTo(v.x - 7, y + h);
    ctx.lineTo(v.x, y + h + 8);
    ctx.lineTo(v.x + 7, y + h);
  }
  ctx.fill();
  ctx.stroke();
  ctx.fillStyle = '#1b1b1b';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  lines.forEach((line, i) => ctx.fillText(line, x + w / 2, y + 6 + BUBBLE_LINE_HEIGHT * (i + 0.5)));
  ctx.restore();
}

function drawArrows(ctx, view, views, origin, area) {
  const arrows = [];
  for (const v of views) {
    if (v.own) continue;
    // the actor's middle, so that a player just below the edge still counts as in view
    const a = offscreenArrow(v.x, v.y - SPRITE_FOOT_Y / 2, origin, view.width, view.height, area);
    if (a) arrows.push({ ...a, name: v.name });
  }
  arrows.sort((p, q) => p.distance - q.distance);
  ctx.font = '600 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
  ctx.textBaseline = 'middle';
  const drawn = arrows.slice(0, ARROWS_MAX);
  for (const a of drawn) {
    ctx.save();
    ctx.translate(a.x, a.y);
    ctx.rotate(a.angle);
    ctx.fillStyle = 'rgba(255, 214, 74, 0.95)';
    ctx.strokeStyle = 'rgba(40, 28, 0, 0.9)';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(12, 0);
    ctx.lineTo(-8, -9);
    ctx.lineTo(-4, 0);
    ctx.lineTo(-8, 9);
    ctx.closePath();
    ctx.fill();
    ctx.stroke();
    ctx.restore();
    // the name beside the arrow, on the side facing the screen's middle
    const label = a.name || '…';
    const w = ctx.measureText(label).width + 10;
    const lx = Math.min(Math.max(a.x - Math.cos(a.angle) * (w / 2 + 16), area.left + w / 2), area.right - w / 2);
    const ly = Math.min(Math.max(a.y - Math.sin(a.angle) * 18, area.top), area.bottom);
    ctx.fillStyle = 'rgba(15, 20, 30, 0.75)';
    ctx.beginPath();
    ctx.roundRect(lx - w / 2, ly - 9, w, 18, 6);
    ctx.fill();
    ctx.fillStyle = '#ffe9a0';
    ctx.textAlign = 'center';
    ctx.fillText(label, lx, ly + 1);
  }
  return drawn.map((a) => a.name);
}
