// Draws one frame of the world on the canvas: ground, click marker, actors (sprite, shadow, name),
// the own player's marker. Browser only.

import { avatarSprite, groundTile, GROUND_TILE, SPRITE_WIDTH, SPRITE_FOOT_Y, WALK_FRAMES } from './sprites.js';
import { facing } from './motion.js';
import { WORLD_WIDTH, WORLD_HEIGHT } from './camera.js';
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

  draw(views, origin, now) {
    const { ctx } = this;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.imageSmoothingEnabled = false;
    const ox = Math.round(origin.x);
    const oy = Math.round(origin.y);
    this.drawGround(ox, oy);
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

  drawGround(ox, oy) {
    const { ctx } = this;
    const t0x = Math.floor(ox / GROUND_TILE);
    const t0y = Math.floor(oy / GROUND_TILE);
    const t1x = Math.floor((ox + this.width) / GROUND_TILE);
    const t1y = Math.floor((oy + this.height) / GROUND_TILE);
    for (let ty = t0y; ty <= t1y; ty++) {
      for (let tx = t0x; tx <= t1x; tx++) {
        ctx.drawImage(groundTile(tx, ty), tx * GROUND_TILE - ox, ty * GROUND_TILE - oy);
      }
    }
    // Beyond the map's edge the ground is shaded and a fence line shows the border.
    ctx.fillStyle = 'rgba(20, 40, 30, 0.38)';
    const mx = -ox;
    const my = -oy;
    const right = mx + WORLD_WIDTH;
    const bottom = my + WORLD_HEIGHT;
    if (my > 0) ctx.fillRect(0, 0, this.width, my);
    if (bottom < this.height) ctx.fillRect(0, bottom, this.width, this.height - bottom);
    if (mx > 0) ctx.fillRect(0, Math.max(0, my), mx, Math.min(bottom, this.height) - Math.max(0, my));
    if (right < this.width) ctx.fillRect(right, Math.max(0, my), this.width - right, Math.min(bottom, this.height) - Math.max(0, my));
    ctx.strokeStyle = 'rgba(120, 84, 48, 0.9)';
    ctx.lineWidth = 4;
    ctx.setLineDash([10, 6]);
    ctx.strokeRect(mx - 2, my - 2, WORLD_WIDTH + 4, WORLD_HEIGHT + 4);
    ctx.setLineDash([]);
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
