// The report's script: decodes the embedded data, computes the model's networks (forward pass
// and vector-Jacobian products, in f64 on the f32 inputs), draws the map on a canvas, and wires
// the panels. Everything it needs is in the page; it requests nothing.
(function () {
  'use strict';

  const R = { ready: false, drawnPoints: 0, drawnTrain: 0, errors: [] };
  window.__report = R;
  const D = JSON.parse(document.getElementById('report-data').textContent);
  R.data = D;

  // ---- decoding -----------------------------------------------------------------------------
  function bytes(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function f32(text) {
    const b = bytes(text);
    return new Float32Array(b.buffer, 0, b.length >> 2);
  }
  // Rows of features: `row(i)` gives the raw values of row i as a Float64Array of exact f32 values.
  function features(spec, n, d) {
    if (!spec) return null;
    if (spec.encoding === 'u8/255') {
      const b = bytes(spec.data);
      return {
        grey: b,
        row(i) {
          const out = new Float64Array(d);
          for (let j = 0; j < d; j++) out[j] = Math.fround(b[i * d + j] / 255);
          return out;
        },
      };
    }
    const a = f32(spec.data);
    return {
      grey: null,
      row(i) {
        return Float64Array.from(a.subarray(i * d, (i + 1) * d));
      },
    };
  }

  const d = D.n_features;
  const shape = D.image_shape; // [rows, cols] or null
  const names = D.label_names;
  const P = {
    n: D.points.n,
    xy: f32(D.points.xy),
    refined: D.points.refined ? f32(D.points.refined) : null,
    labels: D.points.labels,
    feats: features(D.points.features, D.points.n, d),
  };
  const T = {
    n: D.train.n,
    xy: f32(D.train.xy),
    labels: D.train.labels,
    feats: features(D.train.features, D.train.n, d),
  };
  const centres = D.centres;
  const scaling = D.scaling
    ? { offset: f32(D.scaling.offset), divisor: f32(D.scaling.divisor) }
    : null;

  // ---- the networks -------------------------------------------------------------------------
  function network(spec) {
    if (!spec) return null;
    const dense = (l) => ({ rows: l.rows, cols: l.cols, w: f32(l.w), b: f32(l.b) });
    return {
      projection: spec.projection ? dense(spec.projection) : null,
      layers: spec.layers.map(dense),
      hidden: spec.hidden,
      headInput: spec.head_input,
      feature: spec.feature,
      head: dense(spec.head),
      scale: spec.scale,
    };
  }
  const NET = network(D.network);
  const CLASSIFIER = network(D.classifier);

  function activate(name, v) {
    switch (name) {
      case 'identity': return;
      case 'relu': for (let i = 0; i < v.length; i++) v[i] = v[i] > 0 ? v[i] : 0; return;
      case 'tanh': for (let i = 0; i < v.length; i++) v[i] = Math.tanh(v[i]); return;
      case 'sigmoid':
        for (let i = 0; i < v.length; i++) {
          const x = v[i];
          v[i] = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
        }
        return;
      case 'softmax': {
        let max = -Infinity;
        for (const x of v) max = Math.max(max, x);
        let total = 0;
        for (let i = 0; i < v.length; i++) { v[i] = Math.exp(v[i] - max); total += v[i]; }
        for (let i = 0; i < v.length; i++) v[i] /= total;
        return;
      }
      default: throw new Error('unknown activation ' + name);
    }
  }
  // g (the gradient with respect to the activation's output y) becomes the gradient with
  // respect to its input, in place.
  function activateBack(name, y, g) {
    switch (name) {
      case 'identity': return;
      case 'relu': for (let i = 0; i < g.length; i++) g[i] *= y[i] > 0 ? 1 : 0; return;
      case 'tanh': for (let i = 0; i < g.length; i++) g[i] *= 1 - y[i] * y[i]; return;
      case 'sigmoid': for (let i = 0; i < g.length; i++) g[i] *= y[i] * (1 - y[i]); return;
      case 'softmax': {
        let dot = 0;
        for (let i = 0; i < g.length; i++) dot += g[i] * y[i];
        for (let i = 0; i < g.length; i++) g[i] = y[i] * (g[i] - dot);
        return;
      }
      default: throw new Error('unknown activation ' + name);
    }
  }
  // x W + b for one row x, W [rows, cols] row-major.
  function affine(layer, x) {
    const out = Float64Array.from(layer.b);
    const { cols, w } = layer;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      const base = i * cols;
      for (let j = 0; j < cols; j++) out[j] += xi * w[base + j];
    }
    return out;
  }
  // g W^T: the gradient with respect to the layer's input.
  function affineBack(layer, g) {
    const { rows, cols, w } = layer;
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      const base = i * cols;
      for (let j = 0; j < cols; j++) s += g[j] * w[base + j];
      out[i] = s;
    }
    return out;
  }
  // The forward pass of one scaled row: every layer's output, the logits, the head's
  // (activated) input and the map position.
  function forward(net, x) {
    const L = net.layers.length;
    const outs = [];
    // The fixed input projection (PCA-K) comes first, without an activation.
    let h = net.projection ? affine(net.projection, x) : x;
    for (let idx = 0; idx < L; idx++) {
      h = affine(net.layers[idx], h);
      if (idx + 1 < L) activate(net.hidden, h);
      outs.push(h);
    }
    const top = net.headInput === 'logits' ? L - 1 : L - 2;
    const features = Float64Array.from(outs[top]);
    activate(net.feature, features);
    const y = affine(net.head, features);
    for (let k = 0; k < y.length; k++) y[k] *= net.scale;
    return { outs, logits: outs[L - 1], top, features, y };
  }
  // seed^T d(output)/dx at the row of `fw` (output 'logits' or 'embedding').
  function vjp(net, fw, output, seed) {
    const L = net.layers.length;
    let g;
    let top;
    if (output === 'logits') {
      g = Float64Array.from(seed);
      top = L - 1;
    } else {
      const s = Float64Array.from(seed, (v) => v * net.scale);
      g = affineBack(net.head, s);
      activateBack(net.feature, fw.features, g);
      top = fw.top;
    }
    for (let idx = top; idx >= 0; idx--) {
      if (idx + 1 < L) activateBack(net.hidden, fw.outs[idx], g);
      g = affineBack(net.layers[idx], g);
    }
    return net.projection ? affineBack(net.projection, g) : g;
  }
  // Raw values to the model's inputs: the same f32 operations as the Rust scaling.
  function scaled(raw) {
    if (!scaling) return raw;
    const out = new Float64Array(raw.length);
    for (let j = 0; j < raw.length; j++) {
      out[j] = Math.fround(Math.fround(raw[j] - scaling.offset[j]) / scaling.divisor[j]);
    }
    return out;
  }
  function argmax(v) {
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
    return best;
  }
  function centreOf(label) {
    return centres.find((c) => c.label === label) || null;
  }
  function nearestCentre(y, except) {
    let best = null;
    let bestD = Infinity;
    for (const c of centres) {
      if (c.label === except) continue;
      const dd = (c.x - y[0]) ** 2 + (c.y - y[1]) ** 2;
      if (dd < bestD) { bestD = dd; best = c; }
    }
    return best;
  }
  // Everything the panel shows about one raw row: position, prediction, class saliency.
  // The class saliency is that of the predicted class, or of `cls` when given.
  function explain(raw, label, cls) {
    const x = scaled(raw);
    const fw = forward(NET, x);
    const out = { raw, x, fw, y: [fw.y[0], fw.y[1]], label };
    if (CLASSIFIER) {
      const cf = forward(CLASSIFIER, x);
      out.prediction = argmax(cf.logits);
      out.explained = cls == null ? out.prediction : cls;
      const seed = new Float64Array(cf.logits.length);
      seed[out.explained] = 1;
      out.classMap = vjp(CLASSIFIER, cf, 'logits', seed);
      out.logits = Array.from(cf.logits);
    }
    const own = label != null && centreOf(label) ? label : (nearestCentre(out.y, null) || {}).label;
    out.own = own;
    const target = nearestCentre(out.y, own);
    out.defaultTarget = target ? target.label : null;
    return out;
  }
  // Directional saliency toward a cluster: v . dY/dx with v the unit vector from the point to
  // the cluster's centre in the map.
  function directional(e, targetLabel) {
    const c = centreOf(targetLabel);
    if (!c) return null;
    const dx = c.x - e.y[0];
    const dy = c.y - e.y[1];
    const norm = Math.hypot(dx, dy);
    const v = norm > 0 ? [dx / norm, dy / norm] : [0, 0];
    return { target: targetLabel, direction: v, map: vjp(NET, e.fw, 'embedding', v) };
  }
  // For tests and tools: what the panel would show for a raw row (class saliency of `cls`, or
  // of the prediction; directional saliency toward `target`, or the default cluster).
  R.explainRaw = function (raw, label, target, cls) {
    const e = explain(Float64Array.from(raw), label == null ? null : label, cls == null ? null : cls);
    const t = target == null ? e.defaultTarget : target;
    const dir = t == null ? null : directional(e, t);
    return {
      y: e.y,
      prediction: e.prediction,
      logits: e.logits,
      classMap: e.classMap ? Array.from(e.classMap) : null,
      target: t,
      direction: dir ? dir.direction : null,
      dirMap: dir ? Array.from(dir.map) : null,
    };
  };
  // v . dY/dx of shown point i for a fixed direction v (tests compare it with Rust's).
  R.axisVjp = function (i, vx, vy) {
    const fw = forward(NET, scaled(P.feats.row(i)));
    return Array.from(vjp(NET, fw, 'embedding', [vx, vy]));
  };
  R.pointRaw = (i) => Array.from(P.feats ? P.feats.row(i) : []);

  // ---- colours and names --------------------------------------------------------------------
  const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2',
    '#7f7f7f', '#bcbd22', '#17becf'];
  function colour(label) {
    if (label == null) return '#555';
    if (label < PALETTE.length) return PALETTE[label];
    return 'hsl(' + ((label * 137.5) % 360) + ',60%,45%)';
  }
  const nameOf = (label) => (label == null ? 'unlabelled' : (names[label] != null ? names[label] : String(label)));

  // ---- the map view -------------------------------------------------------------------------
  const canvas = document.getElementById('map');
  const ctx = canvas.getContext('2d');
  const view = { cx: 0, cy: 0, scale: 1 };
  let size = { w: 1, h: 1 };
  function bounds() {
    let lo = [Infinity, Infinity];
    let hi = [-Infinity, -Infinity];
    for (const xy of [T.xy, P.xy, P.refined]) {
      if (!xy) continue;
      for (let i = 0; i < xy.length; i += 2) {
        lo = [Math.min(lo[0], xy[i]), Math.min(lo[1], xy[i + 1])];
        hi = [Math.max(hi[0], xy[i]), Math.max(hi[1], xy[i + 1])];
      }
    }
    if (!isFinite(lo[0])) { lo = [-1, -1]; hi = [1, 1]; }
    return { lo, hi };
  }
  const B = bounds();
  function resetView() {
    const w = Math.max(B.hi[0] - B.lo[0], 1e-6);
    const h = Math.max(B.hi[1] - B.lo[1], 1e-6);
    view.cx = (B.lo[0] + B.hi[0]) / 2;
    view.cy = (B.lo[1] + B.hi[1]) / 2;
    view.scale = 0.92 * Math.min(size.w / w, size.h / h);
    redraw();
  }
  // Map coordinates to CSS pixels of the canvas (y up).
  const sx = (x) => size.w / 2 + (x - view.cx) * view.scale;
  const sy = (y) => size.h / 2 - (y - view.cy) * view.scale;
  const wx = (px) => view.cx + (px - size.w / 2) / view.scale;
  const wy = (py) => view.cy - (py - size.h / 2) / view.scale;

  // Indices grouped by label, so that each colour is set once per frame.
  function byLabel(n, labels) {
    const groups = new Map();
    for (let i = 0; i < n; i++) {
      const l = labels ? labels[i] : null;
      if (!groups.has(l)) groups.set(l, []);
      groups.get(l).push(i);
    }
    return groups;
  }
  const trainGroups = byLabel(T.n, T.labels);
  const pointGroups = byLabel(P.n, P.labels);
  let shiftsShown = false;
  let hovered = null; // { set: 'points' | 'train' | 'pad', index }
  let padPoint = null;
  let frame = 0;

  function redraw() {
    if (frame) return;
    frame = requestAnimationFrame(draw);
  }
  // The map's points are painted into pixels of a cached layer, redrawn only when the view
  // changes: hovering repaints the cached picture and its overlays, whatever the number of
  // points, and a pan or a zoom writes each point's few pixels instead of one canvas call each.
  const base = document.createElement('canvas');
  // Read back once per frame with the shifts shown; written from pixels on every frame anyway.
  const baseCtx = base.getContext('2d', { willReadFrequently: true });
  let baseKey = '';
  const rgbCache = new Map();
  function rgbOf(label) {
    if (!rgbCache.has(label)) {
      baseCtx.fillStyle = colour(label);
      const hex = baseCtx.fillStyle; // the canvas normalises any CSS colour to #rrggbb
      rgbCache.set(label, [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)));
    }
    return rgbCache.get(label);
  }
  // Paints the points of `groups` as squares of `side` CSS pixels, blended with `alpha` over
  // what `px` already holds; returns how many lie inside the canvas.
  function paintPoints(px, width, height, dpr, groups, xy, side, alpha) {
    const half = Math.max(1, Math.round(side * dpr)) / 2;
    const w = Math.round(2 * half);
    let inside = 0;
    for (const [label, idx] of groups) {
      const [r, g, b] = rgbOf(label);
      for (const i of idx) {
        const cx = sx(xy[2 * i]) * dpr;
        const cy = sy(xy[2 * i + 1]) * dpr;
        if (!(cx >= -2 * dpr && cy >= -2 * dpr && cx <= width + 2 * dpr && cy <= height + 2 * dpr)) continue;
        inside++;
        const x0 = Math.max(0, Math.round(cx - half));
        const y0 = Math.max(0, Math.round(cy - half));
        const x1 = Math.min(width, Math.round(cx - half) + w);
        const y1 = Math.min(height, Math.round(cy - half) + w);
        for (let y = y0; y < y1; y++) {
          let o = 4 * (y * width + x0);
          for (let x = x0; x < x1; x++, o += 4) {
            const keep = 1 - alpha;
            px[o] = alpha * r + keep * px[o];
            px[o + 1] = alpha * g + keep * px[o + 1];
            px[o + 2] = alpha * b + keep * px[o + 2];
            px[o + 3] = 255 * alpha + keep * px[o + 3];
          }
        }
      }
    }
    return inside;
  }
  function drawBase(dpr) {
    const width = canvas.width;
    const height = canvas.height;
    if (base.width !== width || base.height !== height) {
      base.width = width;
      base.height = height;
    }
    const image = baseCtx.createImageData(width, height);
    const px = image.data;
    // The training map, faint, then the embedded points over it.
    R.drawnTrain = paintPoints(px, width, height, dpr, trainGroups, T.xy, 3, P.n > 0 ? 0.18 : 0.7);
    let pointsAt = 0;
    if (!(shiftsShown && P.refined)) pointsAt = paintPoints(px, width, height, dpr, pointGroups, P.xy, 4, 1);
    baseCtx.setTransform(1, 0, 0, 1, 0, 0);
    baseCtx.putImageData(image, 0, 0);
    baseCtx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (shiftsShown && P.refined) {
      // Shifts go under the points they end at: lines first, then the points as canvas squares.
      baseCtx.strokeStyle = 'rgba(0,0,0,0.45)';
      baseCtx.lineWidth = 1;
      baseCtx.beginPath();
      for (let i = 0; i < P.n; i++) {
        baseCtx.moveTo(sx(P.xy[2 * i]), sy(P.xy[2 * i + 1]));
        baseCtx.lineTo(sx(P.refined[2 * i]), sy(P.refined[2 * i + 1]));
      }
      baseCtx.stroke();
      const over = baseCtx.getImageData(0, 0, width, height);
      pointsAt = paintPoints(over.data, width, height, dpr, pointGroups, P.xy, 4, 1);
      baseCtx.setTransform(1, 0, 0, 1, 0, 0);
      baseCtx.putImageData(over, 0, 0);
      baseCtx.setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    R.drawnPoints = pointsAt;
    // Cluster centres, labelled.
    baseCtx.font = 'bold 16px system-ui, sans-serif';
    baseCtx.textAlign = 'center';
    baseCtx.textBaseline = 'middle';
    for (const c of centres) {
      const x = sx(c.x);
      const y = sy(c.y);
      baseCtx.lineWidth = 4;
      baseCtx.strokeStyle = 'white';
      baseCtx.strokeText(nameOf(c.label), x, y);
      baseCtx.fillStyle = colour(c.label);
      baseCtx.fillText(nameOf(c.label), x, y);
    }
    R.baseFrames = (R.baseFrames || 0) + 1;
  }
  function draw() {
    frame = 0;
    const dpr = window.devicePixelRatio || 1;
    const key = [view.cx, view.cy, view.scale, canvas.width, canvas.height, dpr, shiftsShown].join();
    if (key !== baseKey) {
      drawBase(dpr);
      baseKey = key;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(base, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    if (hovered) {
      const xy = positionOf(hovered);
      ctx.strokeStyle = '#000';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(sx(xy[0]), sy(xy[1]), 7, 0, 2 * Math.PI);
      ctx.stroke();
    }
    if (padPoint) star(sx(padPoint[0]), sy(padPoint[1]));
    R.frames = (R.frames || 0) + 1;
  }
  function star(px, py) {
    ctx.beginPath();
    for (let k = 0; k < 10; k++) {
      const r = k % 2 ? 4 : 10;
      const a = -Math.PI / 2 + (k * Math.PI) / 5;
      ctx.lineTo(px + r * Math.cos(a), py + r * Math.sin(a));
    }
    ctx.closePath();
    ctx.fillStyle = '#ffd400';
    ctx.fill();
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
  function positionOf(h) {
    if (h.set === 'pad') return padPoint;
    const xy = h.set === 'points' ? P.xy : T.xy;
    return [xy[2 * h.index], xy[2 * h.index + 1]];
  }
  function resize() {
    const rect = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const first = size.w === 1;
    size = { w: Math.max(rect.width, 1), h: Math.max(rect.height, 1) };
    canvas.width = Math.round(size.w * dpr);
    canvas.height = Math.round(size.h * dpr);
    if (first) resetView(); else redraw();
  }

  // A uniform grid over map coordinates, for the nearest point under the cursor.
  function grid(xy, n) {
    const cells = 128;
    const cw = Math.max(B.hi[0] - B.lo[0], 1e-6) / cells;
    const ch = Math.max(B.hi[1] - B.lo[1], 1e-6) / cells;
    const buckets = new Map();
    const key = (i, j) => i * 100003 + j;
    for (let p = 0; p < n; p++) {
      const i = Math.floor((xy[2 * p] - B.lo[0]) / cw);
      const j = Math.floor((xy[2 * p + 1] - B.lo[1]) / ch);
      const k = key(i, j);
      if (!buckets.has(k)) buckets.set(k, []);
      buckets.get(k).push(p);
    }
    return {
      nearest(x, y, radius) {
        const i0 = Math.floor((x - radius - B.lo[0]) / cw);
        const i1 = Math.floor((x + radius - B.lo[0]) / cw);
        const j0 = Math.floor((y - radius - B.lo[1]) / ch);
        const j1 = Math.floor((y + radius - B.lo[1]) / ch);
        let best = -1;
        let bestD = radius * radius;
        if ((i1 - i0 + 1) * (j1 - j0 + 1) > 4 * n) {
          for (let p = 0; p < n; p++) {
            const dd = (xy[2 * p] - x) ** 2 + (xy[2 * p + 1] - y) ** 2;
            if (dd <= bestD) { bestD = dd; best = p; }
          }
          return best;
        }
        for (let i = i0; i <= i1; i++) {
          for (let j = j0; j <= j1; j++) {
            const bucket = buckets.get(key(i, j));
            if (!bucket) continue;
            for (const p of bucket) {
              const dd = (xy[2 * p] - x) ** 2 + (xy[2 * p + 1] - y) ** 2;
              if (dd <= bestD) { bestD = dd; best = p; }
            }
          }
        }
        return best;
      },
    };
  }
  const pointGrid = grid(P.xy, P.n);
  const trainGrid = grid(T.xy, T.n);

  // ---- pictures -----------------------------------------------------------------------------
  function greyImage(el, raw) {
    const [h, w] = shape;
    el.width = w;
    el.height = h;
    const c = el.getContext('2d', { willReadFrequently: true });
    const img = c.createImageData(w, h);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of raw) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    // Grey levels in [0, 1] are shown as they are; other ranges are stretched.
    if (lo >= 0 && hi <= 1) { lo = 0; hi = 1; }
    const span = hi > lo ? hi - lo : 1;
    for (let p = 0; p < w * h; p++) {
      const g = Math.round((255 * (raw[p] - lo)) / span);
      img.data[4 * p] = g;
      img.data[4 * p + 1] = g;
      img.data[4 * p + 2] = g;
      img.data[4 * p + 3] = 255;
    }
    c.putImageData(img, 0, 0);
  }
  // A diverging heatmap with symmetric limits: red positive, blue negative, white zero.
  function heatmap(el, map) {
    const [h, w] = shape;
    el.width = w;
    el.height = h;
    const c = el.getContext('2d', { willReadFrequently: true });
    const img = c.createImageData(w, h);
    let limit = 0;
    for (const v of map) limit = Math.max(limit, Math.abs(v));
    for (let p = 0; p < w * h; p++) {
      const t = limit > 0 ? map[p] / limit : 0;
      const a = Math.abs(t);
      const [r, g, b] = t >= 0 ? [255, 255 * (1 - a), 255 * (1 - a)] : [255 * (1 - a), 255 * (1 - a), 255];
      img.data[4 * p] = r;
      img.data[4 * p + 1] = g;
      img.data[4 * p + 2] = b;
      img.data[4 * p + 3] = 255;
    }
    c.putImageData(img, 0, 0);
  }
  // The top features of a map as bars (data without an image shape).
  function bars(el, map, count) {
    el.textContent = '';
    if (!map) return;
    const order = Array.from(map.keys()).sort((a, b) => Math.abs(map[b]) - Math.abs(map[a])).slice(0, count);
    const limit = order.length ? Math.abs(map[order[0]]) || 1 : 1;
    for (const j of order) {
      const row = document.createElement('div');
      row.className = 'bar';
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = D.feature_names && D.feature_names[j] ? D.feature_names[j] : 'feature ' + j;
      const fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.width = Math.round((160 * Math.abs(map[j])) / limit) + 'px';
      fill.style.background = map[j] >= 0 ? '#d62728' : '#1f77b4';
      const value = document.createElement('span');
      value.textContent = ' ' + map[j].toPrecision(3);
      row.append(name, fill, value);
      el.append(row);
    }
  }

  // ---- the point panel ----------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  const targetSelect = $('target-select');
  for (const c of centres) {
    const option = document.createElement('option');
    option.value = String(c.label);
    option.textContent = nameOf(c.label);
    targetSelect.append(option);
  }
  let current = null; // the explained selection
  function show(selection) {
    const raw = selection.raw;
    const e = explain(raw, selection.label);
    e.selection = selection;
    current = e;
    targetSelect.value = e.defaultTarget == null ? '' : String(e.defaultTarget);
    render();
  }
  function render() {
    const e = current;
    const s = e.selection;
    $('point-empty').hidden = true;
    $('point-body').hidden = false;
    $('point-title').textContent = s.set === 'pad' ? 'your drawing' : (s.set === 'points' ? 'point ' : 'training point ') + s.index;
    $('point-label').textContent = e.label == null ? '-' : nameOf(e.label);
    $('point-prediction').textContent = e.prediction == null ? '-' : nameOf(e.prediction);
    $('coord-x').textContent = e.y[0].toFixed(5);
    $('coord-y').textContent = e.y[1].toFixed(5);
    const target = targetSelect.value === '' ? null : Number(targetSelect.value);
    const dir = target == null ? null : directional(e, target);
    $('class-caption').textContent = e.prediction == null ? 'no classifier' : 'class ' + nameOf(e.prediction);
    $('dir-caption').textContent = target == null ? 'no clusters' : 'toward ' + nameOf(target);
    $('class-bars-title').textContent = e.prediction == null ? 'no classifier' : 'class saliency of ' + nameOf(e.prediction) + ': top features';
    $('dir-bars-title').textContent = target == null ? 'no clusters' : 'directional saliency toward ' + nameOf(target) + ': top features';
    if (shape) {
      greyImage($('point-image'), e.raw);
      if (e.classMap) heatmap($('class-saliency'), e.classMap);
      if (dir) heatmap($('dir-saliency'), dir.map);
    } else {
      bars($('class-bars'), e.classMap, 12);
      bars($('dir-bars'), dir ? dir.map : null, 12);
    }
    neighbours(e.y);
    R.shown = {
      set: s.set,
      index: s.index,
      y: e.y,
      prediction: e.prediction,
      classMap: e.classMap ? Array.from(e.classMap) : null,
      target,
      dirMap: dir ? Array.from(dir.map) : null,
    };
    R.shownCount = (R.shownCount || 0) + 1;
  }
  targetSelect.addEventListener('change', () => { if (current) render(); });
  // The nearest training points to a map position, with their images when the page has them.
  function neighbours(y) {
    const el = $('neighbours');
    el.textContent = '';
    const k = Math.min(6, T.n);
    const best = [];
    for (let i = 0; i < T.n; i++) {
      const dd = (T.xy[2 * i] - y[0]) ** 2 + (T.xy[2 * i + 1] - y[1]) ** 2;
      if (best.length < k || dd < best[best.length - 1][0]) {
        best.push([dd, i]);
        best.sort((a, b) => a[0] - b[0]);
        if (best.length > k) best.pop();
      }
    }
    R.neighbours = best.map((b) => b[1]);
    for (const [dd, i] of best) {
      const fig = document.createElement('figure');
      if (shape && T.feats) {
        const c = document.createElement('canvas');
        c.className = 'pixels';
        greyImage(c, T.feats.row(i));
        fig.append(c);
      }
      const cap = document.createElement('figcaption');
      cap.textContent = (T.labels ? nameOf(T.labels[i]) : '#' + i) + ' · ' + Math.sqrt(dd).toFixed(2);
      fig.append(cap);
      el.append(fig);
    }
  }
  function select(h) {
    hovered = h;
    redraw();
    if (h.set === 'pad') { show({ set: 'pad', index: 0, raw: padRaw(), label: null }); return; }
    const source = h.set === 'points' ? P : T;
    show({
      set: h.set,
      index: h.index,
      raw: source.feats ? source.feats.row(h.index) : null,
      label: source.labels ? source.labels[h.index] : null,
    });
  }
  // Selecting needs the row's inputs: shown points have them; training points only when given.
  function pick(px, py) {
    const x = wx(px);
    const y = wy(py);
    const radius = 8 / view.scale;
    if (padPoint && (padPoint[0] - x) ** 2 + (padPoint[1] - y) ** 2 <= radius * radius) return { set: 'pad', index: 0 };
    if (P.feats) {
      const i = pointGrid.nearest(x, y, radius);
      if (i >= 0) return { set: 'points', index: i };
    }
    if (T.feats) {
      const i = trainGrid.nearest(x, y, radius);
      if (i >= 0) return { set: 'train', index: i };
    }
    return null;
  }
  function centreAt(px, py) {
    for (const c of centres) {
      if (Math.abs(sx(c.x) - px) < 12 && Math.abs(sy(c.y) - py) < 10) return c;
    }
    return null;
  }

  // ---- pointer: hover, tap, pan, zoom ------------------------------------------------------
  let drag = null;
  const local = (ev) => {
    const rect = canvas.getBoundingClientRect();
    return [ev.clientX - rect.left, ev.clientY - rect.top];
  };
  canvas.addEventListener('pointerdown', (ev) => {
    const [px, py] = local(ev);
    drag = { px, py, cx: view.cx, cy: view.cy, moved: false };
    canvas.setPointerCapture(ev.pointerId);
  });
  canvas.addEventListener('pointermove', (ev) => {
    const [px, py] = local(ev);
    if (drag) {
      if (Math.abs(px - drag.px) + Math.abs(py - drag.py) > 3) drag.moved = true;
      if (drag.moved) {
        view.cx = drag.cx - (px - drag.px) / view.scale;
        view.cy = drag.cy + (py - drag.py) / view.scale;
        redraw();
      }
      return;
    }
    const h = pick(px, py);
    if (h && (!hovered || h.set !== hovered.set || h.index !== hovered.index)) select(h);
  });
  canvas.addEventListener('pointerup', (ev) => {
    const [px, py] = local(ev);
    const tapped = drag && !drag.moved;
    drag = null;
    if (!tapped) return;
    const c = centreAt(px, py);
    if (c) { showPairs(c.label); return; }
    const h = pick(px, py);
    if (h) select(h);
  });
  canvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const [px, py] = local(ev);
    const x = wx(px);
    const y = wy(py);
    view.scale *= Math.exp(-ev.deltaY * 0.0015);
    view.cx = x - (px - size.w / 2) / view.scale;
    view.cy = y + (py - size.h / 2) / view.scale;
    redraw();
  }, { passive: false });
  $('reset-view').addEventListener('click', resetView);
  if (P.refined) {
    $('shift-toggle-label').hidden = false;
    $('shift-toggle').addEventListener('change', (ev) => { shiftsShown = ev.target.checked; R.shiftsShown = shiftsShown; redraw(); });
  }
  // Screen position (CSS pixels of the viewport) of a shown point, for tests and tools.
  R.toScreen = function (i, set) {
    const xy = (set === 'train' ? T : P).xy;
    const rect = canvas.getBoundingClientRect();
    return { x: rect.left + sx(xy[2 * i]), y: rect.top + sy(xy[2 * i + 1]) };
  };
  // Draws one whole frame now, the cached layer of points included (for timing), and returns
  // the points drawn.
  R.drawNow = function () {
    baseKey = '';
    draw();
    return R.drawnPoints + R.drawnTrain;
  };
  R.centreScreen = function (label) {
    const c = centreOf(label);
    const rect = canvas.getBoundingClientRect();
    return c ? { x: rect.left + sx(c.x), y: rect.top + sy(c.y) } : null;
  };

  // ---- the drawing pad ----------------------------------------------------------------------
  const pad = $('pad');
  const padPixels = shape ? new Uint8Array(shape[0] * shape[1]) : null;
  function padRaw() {
    const raw = new Float64Array(padPixels.length);
    for (let p = 0; p < raw.length; p++) raw[p] = Math.fround(padPixels[p] / 255);
    return raw;
  }
  function padDraw() {
    const raw = new Float64Array(padPixels.length);
    for (let p = 0; p < raw.length; p++) raw[p] = padPixels[p] / 255;
    greyImage(pad, raw);
  }
  // A soft round brush of radius 1.6 pixels; strokes are filled in every quarter pixel.
  function brush(x, y) {
    const [h, w] = shape;
    for (let r = Math.floor(y - 2); r <= Math.ceil(y + 2); r++) {
      for (let c = Math.floor(x - 2); c <= Math.ceil(x + 2); c++) {
        if (r < 0 || c < 0 || r >= h || c >= w) continue;
        const dist = Math.hypot(c + 0.5 - x, r + 0.5 - y);
        const a = dist < 0.8 ? 1 : dist < 1.6 ? (1.6 - dist) / 0.8 : 0;
        const v = Math.round(255 * a);
        if (v > padPixels[r * w + c]) padPixels[r * w + c] = v;
      }
    }
  }
  function padPlace() {
    const any = padPixels.some((v) => v > 0);
    if (!any) { padPoint = null; redraw(); return; }
    const e = explain(padRaw(), null);
    padPoint = e.y;
    R.pad.y = e.y;
    R.pad.prediction = e.prediction;
    $('pad-status').textContent = 'embedded at (' + e.y[0].toFixed(3) + ', ' + e.y[1].toFixed(3) + ')' +
      (e.prediction == null ? '' : ', classified as ' + nameOf(e.prediction));
    select({ set: 'pad', index: 0 });
  }
  if (shape) {
    pad.width = shape[1];
    pad.height = shape[0];
    padDraw();
    let stroke = null;
    const padPos = (ev) => {
      const rect = pad.getBoundingClientRect();
      return [((ev.clientX - rect.left) / rect.width) * shape[1], ((ev.clientY - rect.top) / rect.height) * shape[0]];
    };
    pad.addEventListener('pointerdown', (ev) => {
      stroke = padPos(ev);
      pad.setPointerCapture(ev.pointerId);
      brush(stroke[0], stroke[1]);
      padDraw();
    });
    pad.addEventListener('pointermove', (ev) => {
      if (!stroke) return;
      const [x, y] = padPos(ev);
      const steps = Math.max(1, Math.ceil(Math.hypot(x - stroke[0], y - stroke[1]) * 4));
      for (let k = 1; k <= steps; k++) brush(stroke[0] + ((x - stroke[0]) * k) / steps, stroke[1] + ((y - stroke[1]) * k) / steps);
      stroke = [x, y];
      padDraw();
    });
    pad.addEventListener('pointerup', () => { if (stroke) { stroke = null; padPlace(); } });
    $('pad-clear').addEventListener('click', () => { padPixels.fill(0); padDraw(); padPlace(); });
  }
  R.pad = {
    pixels: () => (padPixels ? Array.from(padPixels) : null),
    // Sets the pad's grey levels (0..255 per pixel) as if drawn, and places the drawing.
    set(levels) { padPixels.set(levels); padDraw(); padPlace(); },
    y: null,
    prediction: null,
  };

  // ---- cluster pairs ------------------------------------------------------------------------
  const pairFigures = [];
  function buildPairs() {
    const el = $('pairs');
    if (!D.pairs.length) { $('pairs-note').textContent = 'No labelled clusters: no pair maps.'; return; }
    for (const pair of D.pairs) {
      const fig = document.createElement('figure');
      fig.dataset.from = pair.from;
      fig.dataset.to = pair.to;
      const map = f32(pair.map);
      if (shape) {
        const c = document.createElement('canvas');
        c.className = 'pixels';
        heatmap(c, map);
        fig.append(c);
      } else {
        const div = document.createElement('div');
        bars(div, Array.from(map), 5);
        fig.append(div);
      }
      const cap = document.createElement('figcaption');
      cap.textContent = nameOf(pair.from) + ' \u2192 ' + nameOf(pair.to);
      fig.append(cap);
      fig.addEventListener('click', () => showPairs(pair.from));
      el.append(fig);
      pairFigures.push(fig);
    }
  }
  // Highlights the maps from one cluster (clicked on the map) and brings them into view.
  function showPairs(label) {
    let first = null;
    for (const fig of pairFigures) {
      const chosen = Number(fig.dataset.from) === label;
      fig.classList.toggle('chosen', chosen);
      if (chosen && !first) first = fig;
    }
    R.chosenPairs = pairFigures.filter((f) => f.classList.contains('chosen')).length;
    if (first) first.scrollIntoView({ block: 'nearest' });
  }
  R.showPairs = showPairs;

  // ---- legend, summary, metrics -------------------------------------------------------------
  function legend() {
    const el = $('legend');
    const counts = new Map();
    const add = (labels, n, k) => {
      for (let i = 0; i < n; i++) {
        const l = labels ? labels[i] : null;
        const c = counts.get(l) || [0, 0];
        c[k]++;
        counts.set(l, c);
      }
    };
    add(T.labels, T.n, 0);
    add(P.labels, P.n, 1);
    const keys = Array.from(counts.keys()).sort((a, b) => (a == null) - (b == null) || a - b);
    for (const l of keys) {
      const [t, p] = counts.get(l);
      const row = document.createElement('div');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = colour(l);
      row.append(sw, nameOf(l) + ': ' + p + ' shown, ' + t + ' in training');
      el.append(row);
    }
  }
  function metrics() {
    if (!D.metrics) return;
    $('metrics-panel').hidden = false;
    const table = $('metrics');
    const head = document.createElement('tr');
    for (const h of ['metric'].concat(D.metrics.columns)) {
      const th = document.createElement('th');
      th.textContent = h;
      head.append(th);
    }
    table.append(head);
    for (const [name, values] of D.metrics.rows) {
      const tr = document.createElement('tr');
      for (const v of [name].concat(values)) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      table.append(tr);
    }
  }

  document.body.classList.add(shape ? 'images' : 'no-images');
  $('summary').textContent = P.n + ' points over the map of ' + T.n + ' training rows · ' + d + ' features' +
    (shape ? ' (' + shape[0] + ' x ' + shape[1] + ' images)' : ' (no image shape: saliency as bars of the top features)');
  legend();
  metrics();
  buildPairs();
  window.addEventListener('resize', resize);
  resize();
  R.ready = true;
})();
