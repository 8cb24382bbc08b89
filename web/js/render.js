// Draws one frame of the world on the canvas: ground, click marker, actors (sprite, shadow, name),
// the own player's marker. Browser only.

import { avatarSprite, groundTile, GROUND_TILE, SPRITE_WIDTH, SPRITE_FOOT_Y, WALK_FRAMES } from './sprites.js';
import { facing } from './motion.js';
import { DEFAULT_WORLD, visibleTiles } from './camera.js';
import { layoutLabels } from './labels.js';

// Feet move about this far per walk frame (70 px/s gives ~6 frames a second).
const STRIDE_PX = 11;
const CLICK_MARKER_MS = 700;

export class Renderer {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.width = 0; // CSS pixels
    this.height = 0;
    this.dpr = 1;
    this.walk = new Map(); // actor id -> {lastX, lastY, distance, direction}
    this.clickMarker = null; // {x, y, t}
  }

  // Matches the canvas' backing store to its CSS size and the device's pixel ratio.
  resize(width, height, dpr) {
    this.width = width;
    this.height = height;
    this.dpr = dpr;
    this.canvas.width = Math.max(1, Math.round(width * dpr));
    this.canvas.height = Math.max(1, Math.round(height * dpr));
  }

  markClick(x, y, now) {
    this.clickMarker = { x, y, t: now };
  }

  // Forgets walk state of actors that are gone.
  prune(views) {
    const ids = new Set(views.map((v) => v.id));
    for (const id of this.walk.keys()) if (!ids.has(id)) this.walk.delete(id);
  }

  // `world` ({width, height}): the map whose edges are drawn (the server's, once it said).
  draw(views, origin, now, world = DEFAULT_WORLD) {
    const { ctx } = this;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.imageSmoothingEnabled = false;
    const ox = Math.round(origin.x);
    const oy = Math.round(origin.y);
    this.drawGround(ox, oy, world);
    ctx.translate(-ox, -oy);
    this.drawClickMarker(now);
    this.prune(views);
    const poses = views.map((v) => ({ v, pose: this.pose(v) }));
    for (const { v } of poses) this.drawShadow(v);
    for (const { v } of poses) if (v.own) this.drawOwnRing(v, now);
    for (const { v, pose } of poses) {
      const sprite = avatarSprite(v.avatar, pose.direction, pose.frame);
      ctx.drawImage(sprite, Math.round(v.x - SPRITE_WIDTH / 2), Math.round(v.y - SPRITE_FOOT_Y));
    }
    this.drawNames(views, now);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }

  // The walk animation of an actor: its direction (kept while idle) and frame (by distance walked).
  pose(v) {
    let w = this.walk.get(v.id);
    if (!w) {
      w = { lastX: v.x, lastY: v.y, distance: 0, direction: 'down' };
      this.walk.set(v.id, w);
    }
    w.distance += Math.hypot(v.x - w.lastX, v.y - w.lastY);
    w.lastX = v.x;
    w.lastY = v.y;
    const f = facing(v.vx, v.vy);
    if (f === 'idle') return { direction: w.direction, frame: 0 };
    w.direction = f;
    return { direction: f, frame: Math.floor(w.distance / STRIDE_PX) % WALK_FRAMES };
  }

  // Only the tiles and the stretch of fence in view: the world may be far larger than the screen.
  drawGround(ox, oy, world) {
    const { ctx } = this;
    const tiles = visibleTiles({ x: ox, y: oy }, this.width, this.height, GROUND_TILE);
    for (let ty = tiles.y0; ty <= tiles.y1; ty++) {
      for (let tx = tiles.x0; tx <= tiles.x1; tx++) {
        ctx.drawImage(groundTile(tx, ty), tx * GROUND_TILE - ox, ty * GROUND_TILE - oy);
      }
    }
    // Beyond the map's edge the ground is shaded and a fence line shows the border.
    ctx.fillStyle = 'rgba(20, 40, 30, 0.38)';
    const mx = -ox;
    const my = -oy;
    const right = mx + world.width;
    const bottom = my + world.height;
    if (my > 0) ctx.fillRect(0, 0, this.width, my);
    if (bottom < this.height) ctx.fillRect(0, bottom, this.width, this.height - bottom);
    if (mx > 0) ctx.fillRect(0, Math.max(0, my), mx, Math.min(bottom, this.height) - Math.max(0, my));
    if (right < this.width) ctx.fillRect(right, Math.max(0, my), this.width - right, Math.min(bottom, this.height) - Math.max(0, my));
    this.drawFence(mx - 2, my - 2, world.width + 4, world.height + 4);
  }

  // The dashed border of the rectangle (x, y, w, h) in screen pixels, each side cut to the view
  // (a dash pattern along a 64,000 px edge would cost every frame); the dash offset keeps the
  // pattern fixed to the world while the camera moves.
  drawFence(x, y, w, h) {
    const { ctx } = this;
    const pad = 8;
    const x0 = Math.max(x, -pad);
    const x1 = Math.min(x + w, this.width + pad);
    const y0 = Math.max(y, -pad);
    const y1 = Math.min(y + h, this.height + pad);
    if (x0 >= x1 || y0 >= y1) return;
    ctx.strokeStyle = 'rgba(120, 84, 48, 0.9)';
    ctx.lineWidth = 4;
    ctx.setLineDash([10, 6]);
    const side = (ax, ay, bx, by, offset) => {
      ctx.lineDashOffset = offset;
      ctx.beginPath();
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
      ctx.stroke();
    };
    if (y >= -pad && y <= this.height + pad) side(x0, y, x1, y, x0 - x);
    if (y + h >= -pad && y + h <= this.height + pad) side(x0, y + h, x1, y + h, x0 - x);
    if (x >= -pad && x <= this.width + pad) side(x, y0, x, y1, y0 - y);
    if (x + w >= -pad && x + w <= this.width + pad) side(x + w, y0, x + w, y1, y0 - y);
    ctx.setLineDash([]);
    ctx.lineDashOffset = 0;
  }

  drawClickMarker(now) {
    const m = this.clickMarker;
    if (!m) return;
    const age = (now - m.t) / CLICK_MARKER_MS;
    if (age >= 1) {
      this.clickMarker = null;
      return;
    }
    const { ctx } = this;
    ctx.save();
    ctx.globalAlpha = 1 - age;
    ctx.strokeStyle = '#fff7c2';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.ellipse(m.x, m.y, 6 + 14 * age, (6 + 14 * age) * 0.5, 0, 0, Math.PI * 2);
    ctx.stroke();
    ctx.restore();
  }

  drawShadow(v) {
    const { ctx } = this;
    ctx.fillStyle = 'rgba(0, 0, 0, 0.25)';
    ctx.beginPath();
    ctx.ellipse(v.x, v.y - 1, 17, 6, 0, 0, Math.PI * 2);
    ctx.fill();
  }

  drawOwnRing(v, now) {
    const { ctx } = this;
    const pulse = 0.5 + 0.5 * Math.sin(now / 250);
    ctx.save();
    ctx.strokeStyle = `rgba(255, 214, 74, ${0.65 + 0.35 * pulse})`;
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.ellipse(v.x, v.y - 1, 22, 9, 0, 0, Math.PI * 2);
    ctx.stroke();
    ctx.restore();
  }

  // Name tags above the sprites, moved up where they would cover each other.
  drawNames(views, now) {
    const { ctx } = this;
    ctx.font = '600 13px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    const h = 20;
    const boxes = views.map((v) => {
      const w = Math.ceil(ctx.measureText(v.name || '…').width) + 14;
      return { x: Math.round(v.x - w / 2), y: Math.round(v.y - SPRITE_FOOT_Y - h - 2), w, h, first: v.own };
    });
    const placed = layoutLabels(boxes);
    views.forEach((v, i) => this.drawName(v, placed[i], now));
  }

  drawName(v, box, now) {
    const { ctx } = this;
    const { x, y, w, h } = box;
    ctx.fillStyle = v.own ? 'rgba(60, 40, 0, 0.8)' : 'rgba(15, 20, 30, 0.7)';
    roundRect(ctx, x, y, w, h, 7);
    ctx.fill();
    if (v.own) {
      ctx.strokeStyle = '#ffd64a';
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
    ctx.fillStyle = v.own ? '#ffe27a' : '#ffffff';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(v.name || '…', x + w / 2, y + h / 2 + 1);
    if (v.own) {
      // a bobbing arrow over the own player's name
      const cx = x + w / 2;
      const ay = y - 4 + Math.sin(now / 200) * 2;
      ctx.fillStyle = '#ffd64a';
      ctx.strokeStyle = '#3c2800';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(cx - 7, ay - 8);
      ctx.lineTo(cx + 7, ay - 8);
      ctx.lineTo(cx, ay);
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
    }
  }
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}
