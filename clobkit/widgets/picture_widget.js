// The cluster picture as plain SVG, for the dashboard (an anywidget ES module; no build step,
// no network). It draws the dict of clobkit.viz.picture_state (the `state`
// trait) and nothing else: nodes on a ring (shape + label + colour give the role), messages
// as dots on their links (shape + colour give the family), dropped ones fading as crosses,
// cut links dashed, each node's log as a strip of boxes (hatched = uncommitted, crossed =
// corrupt, bar = commit point) and the committed book. Between two states from the kernel,
// if `speed` > 0 (simulated µs per real ms), dots glide along their links on the browser's
// clock. Clicking a node opens its action menu; an action is sent to the kernel, which runs
// the dashboard's own button callback for it.

const NS = "http://www.w3.org/2000/svg";
const W = 960;
const H = 540;
const RING = { cx: 250, cy: 272, r: 122 }; // ring radius in px for unit coordinates
const LOG = { x: 540, y: 40, box: 22, gap: 3, slots: 16 };

function el(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

function px(x, y) {
  return [RING.cx + x * RING.r, RING.cy - y * RING.r];
}

// Marker shapes as SVG paths centred on 0,0 (radius ~r).
function shape(kind, r) {
  switch (kind) {
    case "diamond":
      return `M0,${-r}L${r},0L0,${r}L${-r},0Z`;
    case "square":
      return `M${-r * 0.8},${-r * 0.8}h${1.6 * r}v${1.6 * r}h${-1.6 * r}Z`;
    case "triangle":
      return `M0,${-r}L${r},${r * 0.8}L${-r},${r * 0.8}Z`;
    case "x":
      return `M${-r},${-r}L${r},${r}M${r},${-r}L${-r},${r}`;
    case "star": {
      let d = "";
      for (let i = 0; i < 10; i++) {
        const a = (Math.PI / 5) * i - Math.PI / 2;
        const rr = i % 2 ? r * 0.45 : r;
        d += (i ? "L" : "M") + (rr * Math.cos(a)).toFixed(2) + "," + (rr * Math.sin(a)).toFixed(2);
      }
      return d + "Z";
    }
    case "hexagon": {
      let d = "";
      for (let i = 0; i < 6; i++) {
        const a = (Math.PI / 3) * i;
        d += (i ? "L" : "M") + (r * Math.cos(a)).toFixed(2) + "," + (r * Math.sin(a)).toFixed(2);
      }
      return d + "Z";
    }
    default: // circle
      return `M${-r},0a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0`;
  }
}

const ROLE_SHAPE = { primary: "star", backup: "circle", learner: "circle", recovering: "hexagon", down: "x" };

function render({ model, el: host }) {
  host.classList.add("clobkit-picture");
  const wrap = document.createElement("div");
  wrap.style.position = "relative";
  wrap.style.width = W + "px";
  host.appendChild(wrap);
  const svg = el("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img" }, null);
  svg.style.fontFamily = "system-ui, sans-serif";
  wrap.appendChild(svg);
  const defs = el("defs", {}, svg);
  const hatch = el("pattern", { id: "ck-hatch", width: 5, height: 5, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
  el("rect", { width: 5, height: 5, fill: "white", "fill-opacity": 0.55 }, hatch);
  el("line", { x1: 0, y1: 0, x2: 0, y2: 5, stroke: "#222", "stroke-width": 1.6 }, hatch);
  const title = el("text", { x: 8, y: 16, "font-size": 13, "font-weight": 600, class: "ck-title" }, svg);
  const gLinks = el("g", { class: "ck-links" }, svg);
  const gCuts = el("g", { class: "ck-cuts" }, svg);
  const gClients = el("g", { class: "ck-clients" }, svg);
  const gNodes = el("g", { class: "ck-nodes" }, svg);
  const gMsgs = el("g", { class: "ck-messages" }, svg);
  const gLogs = el("g", { class: "ck-logs" }, svg);
  const gBook = el("g", { class: "ck-book" }, svg);
  const gLegend = el("g", { class: "ck-legend" }, svg);
  const menu = document.createElement("div");
  menu.className = "ck-menu";
  Object.assign(menu.style, {
    position: "absolute", display: "none", background: "white", border: "1px solid #888",
    borderRadius: "4px", padding: "4px", boxShadow: "0 2px 6px rgba(0,0,0,.25)", zIndex: 10,
  });
  wrap.appendChild(menu);

  let state = null;
  let arrived = performance.now();
  let pool = []; // message elements, reused between frames
  let frameTimes = [];
  let last = 0;
  let rafId = 0;

  function pos(name) {
    for (const n of state.nodes) if (n.name === name) return [n.x, n.y];
    for (const c of state.clients) if (c.name === name) return [c.x, c.y];
    return null;
  }

  function openMenu(node, x, y) {
    menu.innerHTML = "";
    const head = document.createElement("div");
    head.textContent = `${node.name} (${node.role})`;
    head.style.fontWeight = "600";
    head.style.fontSize = "12px";
    menu.appendChild(head);
    const down = node.role === "down";
    for (const action of model.get("actions")) {
      const b = document.createElement("button");
      b.textContent = action;
      b.className = `ck-action ck-action-${action}`;
      b.disabled = !state.live || (action === "crash" && down) || (action === "restart" && !down) || (action === "isolate" && down);
      b.style.margin = "2px";
      b.onclick = (ev) => {
        ev.stopPropagation();
        menu.style.display = "none";
        model.send({ event: "action", node: node.name, action });
      };
      menu.appendChild(b);
    }
    menu.style.left = x + 28 + "px";
    menu.style.top = y - 10 + "px";
    menu.style.display = "block";
  }
  svg.addEventListener("click", () => (menu.style.display = "none"));

  function drawStatic() {
    gLinks.replaceChildren();
    gCuts.replaceChildren();
    gClients.replaceChildren();
    gNodes.replaceChildren();
    gLogs.replaceChildren();
    gBook.replaceChildren();
    const s = state;
    title.textContent = `t = ${s.time_ms.toFixed(3)} ms · ` + (s.primary ? `primary ${s.primary} (view ${s.view})` : "no primary") + (s.live ? "" : " · replay");
    for (let i = 0; i < s.nodes.length; i++)
      for (let j = i + 1; j < s.nodes.length; j++) {
        const [x0, y0] = px(s.nodes[i].x, s.nodes[i].y);
        const [x1, y1] = px(s.nodes[j].x, s.nodes[j].y);
        el("line", { x1: x0, y1: y0, x2: x1, y2: y1, stroke: "#d0d7de" }, gLinks);
      }
    for (const c of s.cuts) {
      const [x0, y0] = px(c.x0, c.y0);
      const [x1, y1] = px(c.x1, c.y1);
      const g = el("g", { class: "ck-cut", "data-source": c.source, "data-target": c.target }, gCuts);
      el("line", { x1: x0, y1: y0, x2: x1, y2: y1, stroke: "#d62728", "stroke-width": 2.5, "stroke-dasharray": "6 4" }, g);
      const t = el("text", { x: (x0 + x1) / 2, y: (y0 + y1) / 2 + 4, "text-anchor": "middle", "font-size": 13, fill: "#d62728" }, g);
      t.textContent = c.both ? "✂" : "✂→";
      el("title", {}, g).textContent = `cut ${c.source} → ${c.target}` + (c.both ? " (both ways)" : " (one way)");
    }
    for (const c of s.clients) {
      const [x, y] = px(c.x, c.y);
      el("rect", { x: x - 6, y: y - 6, width: 12, height: 12, fill: "#6b6b6b" }, gClients);
      const t = el("text", { x, y: y + 18, "text-anchor": "middle", "font-size": 10, fill: "#555" }, gClients);
      t.textContent = c.name.replace("client:", "");
    }
    for (const n of s.nodes) {
      const [x, y] = px(n.x, n.y);
      const role = s.roles[n.role];
      const g = el("g", { class: `ck-node ck-node-${n.name}`, "data-node": n.name, "data-role": n.role, transform: `translate(${x},${y})`, cursor: "pointer" }, gNodes);
      el("circle", { r: 24, fill: "white", stroke: "#999", "stroke-dasharray": n.role === "down" ? "3 3" : "" }, g);
      el("path", { d: shape(ROLE_SHAPE[n.role], n.role === "primary" ? 22 : 17), fill: n.role === "down" ? "none" : role.color, stroke: n.role === "down" ? role.color : "#333", "stroke-width": n.role === "down" ? 4 : 1.5 }, g);
      if (n.role === "learner") el("circle", { r: 5, fill: "#333" }, g);
      // the label sits outside the ring, along the node's own direction
      const lx = n.x * 30;
      const ly = -n.y * 34 + (n.y < -0.2 ? 12 : n.y > 0.2 ? -14 : 0);
      const anchor = n.x > 0.3 ? "start" : n.x < -0.3 ? "end" : "middle";
      const t1 = el("text", { x: lx, y: ly, "text-anchor": anchor, "font-size": 12, "font-weight": 600 }, g);
      t1.textContent = `${n.name} ${role.label}`;
      const t2 = el("text", { x: lx, y: ly + 13, "text-anchor": anchor, "font-size": 10, fill: "#444" }, g);
      t2.textContent = n.role === "down" ? "" : `v${n.view} op ${n.op} c${n.commit}` + (n.status !== "normal" && n.status !== "learner" ? ` · ${n.status.replace("_", " ")}` : "");
      if (n.syncing) {
        const f = el("text", { x: 20, y: 22, "font-size": 10, fill: "#8c564b", class: "ck-fsync" }, g);
        f.textContent = "fsync…";
      }
      el("title", {}, g).textContent = `${n.name}: ${n.role}, ${n.status} — click for actions`;
      g.addEventListener("click", (ev) => {
        ev.stopPropagation();
        openMenu(n, x, y);
      });
    }
    // logs
    const names = s.nodes.map((n) => n.name);
    const head = el("text", { x: LOG.x, y: LOG.y - 8, "font-size": 11, fill: "#333" }, gLogs);
    head.textContent = "logs: solid committed · hatched not yet · ✕ corrupt · ↗ truncated · bar commit";
    names.forEach((name, row) => {
      const n = s.nodes[row];
      const y = LOG.y + row * (LOG.box + 6);
      const lab = el("text", { x: LOG.x - 6, y: y + 15, "text-anchor": "end", "font-size": 11 }, gLogs);
      lab.textContent = name;
      let commitX = null;
      n.log.slice(-LOG.slots).forEach((e, slot) => {
        const x = LOG.x + slot * (LOG.box + LOG.gap);
        const g = el("g", { class: "ck-entry", "data-op": e.op, "data-committed": e.committed, "data-corrupt": e.corrupt }, gLogs);
        const color = e.view < 0 ? "#bdbdbd" : VIEW_PALETTE[e.view % VIEW_PALETTE.length];
        if (e.leaving) {
          // truncated: a dashed ghost lifting out of the row
          g.setAttribute("class", "ck-entry ck-leaving");
          g.setAttribute("opacity", 0.45);
          el("rect", { x, y: y - 4, width: LOG.box, height: LOG.box, fill: "none", stroke: "#777", "stroke-dasharray": "3 2" }, g);
          const t = el("text", { x: x + LOG.box / 2, y: y + 11, "text-anchor": "middle", "font-size": 10, fill: "#555" }, g);
          t.textContent = `${e.op}↗`;
          el("title", {}, g).textContent = `${name} op ${e.op}, view ${e.view}: truncated, leaving the log`;
          return;
        }
        el("rect", { x, y, width: LOG.box, height: LOG.box, fill: color, stroke: e.corrupt ? "#d62728" : "#333", "stroke-width": e.corrupt ? 2.5 : 1 }, g);
        if (!e.committed) el("rect", { x, y, width: LOG.box, height: LOG.box, fill: "url(#ck-hatch)" }, g);
        const t = el("text", { x: x + LOG.box / 2, y: y + 15, "text-anchor": "middle", "font-size": 10, fill: e.corrupt ? "#d62728" : "#111" }, g);
        t.textContent = e.corrupt ? "✕" : String(e.op);
        el("title", {}, g).textContent = `${name} op ${e.op}, view ${e.view}, ` + (e.corrupt ? "CORRUPT" : e.committed ? "committed" : "uncommitted");
        if (e.committed) commitX = x + LOG.box + LOG.gap / 2;
      });
      if (commitX !== null) el("line", { x1: commitX, y1: y - 3, x2: commitX, y2: y + LOG.box + 3, stroke: "#111", "stroke-width": 3, class: "ck-commit" }, gLogs);
    });
    // book
    const by = LOG.y + names.length * (LOG.box + 6) + 26;
    const bt = el("text", { x: LOG.x, y: by, "font-size": 12, "font-weight": 600 }, gBook);
    bt.textContent = "committed book";
    let yy = by + 16;
    const asks = s.book.asks.slice(0, 5).reverse();
    for (const [p, q] of asks) {
      const t = el("text", { x: LOG.x, y: yy, "font-size": 11, fill: "#d62728", class: "ck-ask" }, gBook);
      t.textContent = `ask ${p} × ${q}`;
      yy += 14;
    }
    for (const [p, q] of s.book.bids.slice(0, 5)) {
      const t = el("text", { x: LOG.x, y: yy, "font-size": 11, fill: "#2ca02c", class: "ck-bid" }, gBook);
      t.textContent = `bid ${p} × ${q}`;
      yy += 14;
    }
    const ft = el("text", { x: LOG.x + 190, y: by, "font-size": 12, "font-weight": 600 }, gBook);
    ft.textContent = "latest fills";
    s.book.fills.forEach((f, i) => {
      const t = el("text", { x: LOG.x + 190, y: by + 16 + i * 14, "font-size": 11, class: "ck-fill" }, gBook);
      t.textContent = f;
    });
  }

  function drawLegend() {
    gLegend.replaceChildren();
    let x = 8;
    const y = H - 10;
    for (const [name, f] of Object.entries(state.families)) {
      el("path", { d: shape(f.svg, 5), transform: `translate(${x + 5},${y - 4})`, fill: f.color, stroke: "#222" }, gLegend);
      const t = el("text", { x: x + 14, y, "font-size": 10 }, gLegend);
      t.textContent = name;
      x += 14 + name.length * 6 + 10;
    }
    el("path", { d: shape("x", 4), transform: `translate(${x + 5},${y - 4})`, stroke: "#555", "stroke-width": 2 }, gLegend);
    const t = el("text", { x: x + 14, y, "font-size": 10 }, gLegend);
    t.textContent = "dropped";
  }

  // Messages: positions on the local clock; elements pooled so a frame only moves them.
  function drawMessages(tUs) {
    const msgs = state.messages;
    while (pool.length < msgs.length) {
      const g = el("g", { class: "ck-msg" }, gMsgs);
      const p = el("path", { stroke: "#222", "stroke-width": 0.8 }, g);
      el("title", {}, g);
      pool.push({ g, p, key: "" });
    }
    let shown = 0;
    for (let i = 0; i < pool.length; i++) {
      const slot = pool[i];
      if (i >= msgs.length) {
        slot.g.setAttribute("display", "none");
        continue;
      }
      const m = msgs[i];
      const a = pos(m.source);
      const b = pos(m.target);
      if (!a || !b) {
        slot.g.setAttribute("display", "none");
        continue;
      }
      let frac = m.frac;
      let opacity = m.opacity;
      if (tUs !== state.time_us && m.state === "flying" && m.end_us !== null && m.end_us > m.send_us) {
        frac = Math.min(1, Math.max(0, (tUs - m.send_us) / (m.end_us - m.send_us)));
      }
      const [x0, y0] = px(a[0], a[1]);
      const [x1, y1] = px(b[0], b[1]);
      const x = x0 + (x1 - x0) * frac;
      const y = y0 + (y1 - y0) * frac;
      const key = m.id + m.state + m.kind;
      if (slot.key !== key) {
        const fam = state.families[m.family];
        const dropped = m.state === "dropped";
        slot.p.setAttribute("d", shape(dropped ? "x" : fam.svg, 6));
        slot.p.setAttribute("fill", dropped ? "none" : fam.color);
        slot.p.setAttribute("stroke", dropped ? fam.color : "#222");
        slot.p.setAttribute("stroke-width", dropped ? 3 : 0.8);
        slot.g.setAttribute("data-kind", m.kind);
        slot.g.setAttribute("data-family", m.family);
        slot.g.firstChild.nextSibling.textContent = `${m.kind} ${m.source} → ${m.target}` + (m.view === null ? "" : ` view ${m.view}`) + (m.op === null ? "" : ` op ${m.op}`) + (dropped ? ` (dropped: ${m.reason})` : "");
        slot.key = key;
      }
      slot.g.setAttribute("display", "");
      slot.g.setAttribute("transform", `translate(${x.toFixed(1)},${y.toFixed(1)})`);
      slot.g.setAttribute("opacity", opacity);
      shown++;
    }
    host.dataset.messages = String(shown);
  }

  function tick(now) {
    if (last) {
      frameTimes.push(now - last);
      if (frameTimes.length > 600) frameTimes.shift();
    }
    last = now;
    if (state) {
      const speed = model.get("speed");
      const t = speed > 0 ? state.time_us + (now - arrived) * speed : state.time_us;
      drawMessages(t);
    }
    rafId = requestAnimationFrame(tick);
  }

  function update() {
    state = model.get("state");
    if (!state || !state.nodes) return;
    arrived = performance.now();
    drawStatic();
    drawLegend();
    drawMessages(state.time_us);
    host.dataset.time = String(state.time_us);
    host.dataset.primary = state.primary || "";
    host.dataset.renders = String(Number(host.dataset.renders || 0) + 1);
  }

  // For tests and the curious: the recent frame intervals (ms) from requestAnimationFrame.
  host.clobkitFrameTimes = () => frameTimes.slice();
  host.clobkitResetFrames = () => {
    frameTimes = [];
    last = 0;
  };

  model.on("change:state", update);
  update();
  rafId = requestAnimationFrame(tick);
  return () => cancelAnimationFrame(rafId);
}

const VIEW_PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#eeca3b"];

export default { render };
