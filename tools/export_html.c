/* export_html: `labsim export --format html`, a run as one self-contained HTML page: nodes as
 * lanes, time left to right, messages as arrows (request blue, reply green, lost reply red and
 * dashed), role bars coloured by term (tall = leader, half = candidate, thin = follower), faults
 * as red lines, every other event as a tick with its details on hover or click; zoom buttons
 * and topic check boxes. Membership (raft.config, raft/membership.c): a purple diamond on the
 * lane of each server where a configuration took effect, its role bars hollow and dashed while
 * its own latest configuration makes it a learner, and faint while it is no member at all.
 *
 * Self-contained: the CSS and the script are inline, the trace is embedded as JSON in a
 * <script type="application/json"> element, and nothing is fetched, so the file works offline
 * and can be mailed around. The script draws SVG (so a DOM dump shows what was drawn) and
 * records what it drew in #summary's data-lanes / data-arrows / data-spans / data-events /
 * data-faults (and, for lab 5, data-shard-lanes / data-owners / data-moves) attributes, which
 * the tests check. JSON strings escape <, > and &, so no trace text can close the script
 * element. Lanes carry the node names the trace gives ("g101/2"), else "node N".
 *
 * A lab 5 page (one with sc.assign events among its events) also gets one lane per shard under
 * the nodes: who owns the shard over time, as bars coloured by group, from the controller's
 * configurations (each controller replica reports config N's assignments; the first report of
 * a config newer than the lane's is taken, so a second controller service, TestRejection5A's,
 * shows only where its numbers run ahead), and a marker on the shard's lane for each move the
 * groups trace (skv.send, skv.receive, skv.delete).
 *
 * Written while the trace is read: events go straight to the page; links and spans, which the
 * data lists after the events, go to two scratch files (tmpfile) and are copied in at the end,
 * so memory stays bounded whatever the size of the trace.
 *
 * Embedded data: {"title", "seed", "digest", "truncated", "begin_us",
 *   "nodes": [node id per lane], "names": [node name per lane, "" when unnamed],
 *   "kinds": [[name, topic, [field...], class]...],
 *   "events": [[t_us, lane, kind, [value...], text]...],
 *   "links": [[from event, to event, 0 request | 1 reply | 2 lost reply]...],
 *   "spans": [[lane, begin_us, end_us, term, role]...], "end_us"}
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

/* The page, one source line per string (C compilers need not take literals past 4095 bytes). */
static const char *const html_head[] = {
    "<!DOCTYPE html>\n",
    "<html lang=\"en\">\n",
    "<head>\n",
    "<meta charset=\"utf-8\">\n",
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    "<style>\n",
    "body {\n",
    "  margin: 0; font: 13px/1.4 system-ui, -apple-system, \"Segoe UI\", sans-serif;\n",
    "  color: #1d2330; background: #f6f7f9;\n",
    "}\n",
    "header { padding: 10px 16px 6px; background: #fff; border-bottom: 1px solid #d8dce3; }\n",
    "h1 { margin: 0 0 2px; font-size: 17px; font-weight: 600; }\n",
    ".meta { color: #5b6475; }\n",
    ".bar {\n",
    "  display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center;\n",
    "  margin-top: 6px;\n",
    "}\n",
    ".bar button {\n",
    "  font: inherit; padding: 1px 9px; border: 1px solid #b9c0cc; border-radius: 4px;\n",
    "  background: #f3f5f8; cursor: pointer;\n",
    "}\n",
    ".bar label { white-space: nowrap; cursor: pointer; }\n",
    ".legend { display: inline-flex; gap: 12px; align-items: center; color: #5b6475; }\n",
    ".legend svg { vertical-align: middle; }\n",
    "#view {\n",
    "  overflow: auto; background: #fff; margin: 8px 16px; border: 1px solid #d8dce3;\n",
    "  border-radius: 4px;\n",
    "}\n",
    "#timeline { display: block; }\n",
    "#info {\n",
    "  margin: 0 16px 12px; padding: 6px 10px; min-height: 18px; background: #fff;\n",
    "  border: 1px solid #d8dce3; border-radius: 4px;\n",
    "  font-family: ui-monospace, Menlo, Consolas, monospace; white-space: pre-wrap;\n",
    "}\n",
    "#summary { margin: 0 16px 16px; color: #5b6475; }\n",
    ".lane-bg { fill: #fff; }\n",
    ".lane-bg.odd { fill: #f4f6f9; }\n",
    ".lane-label { font-weight: 600; font-size: 12px; fill: #1d2330; }\n",
    ".lane-axis { stroke: #d0d5dd; stroke-width: 1; }\n",
    ".tick { stroke: #e3e6eb; stroke-width: 1; }\n",
    ".tick-label { font-size: 10px; fill: #6b7385; }\n",
    ".span { stroke: none; }\n",
    ".span-label {\n",
    "  font-size: 10px; fill: #fff; stroke: none; font-weight: 600; pointer-events: none;\n",
    "}\n",
    ".ev { stroke: #555c6b; stroke-width: 1.5; }\n",
    ".ev:hover, .arrow:hover { stroke-width: 3; }\n",
    ".arrow { stroke-width: 1.2; fill: none; }\n",
    ".a-req { stroke: #3b6fd6; }\n",
    ".a-rep { stroke: #2f9d55; }\n",
    ".a-lost { stroke: #d83b3b; stroke-dasharray: 4 3; }\n",
    ".fault { stroke: #d83b3b; stroke-width: 2; stroke-dasharray: 6 3; }\n",
    ".fault-label { font-size: 10px; fill: #d83b3b; font-weight: 600; }\n",
    "text.ext-label { font-size: 9px; fill: #8a4b00; stroke: none; }\n",
    ".config { fill: #7b3fc4; stroke: #fff; stroke-width: 1; }\n",
    ".span.learner { stroke: #5b6475; stroke-dasharray: 3 2; fill-opacity: 0.15; }\n",
    ".span.non-member { fill-opacity: 0.12; }\n",
    ".owner { stroke: none; fill-opacity: 0.8; }\n",
    ".move { stroke: #1d2330; stroke-width: 1; }\n",
    ".move-send { fill: #3b6fd6; } .move-receive { fill: #2f9d55; }\n",
    ".move-delete { fill: #fff; }\n",
    ".t-kernel { stroke: #9aa1ad; }\n",
    ".t-net { stroke: #3b6fd6; }\n",
    ".t-timer { stroke: #c98a00; }\n",
    ".t-role { stroke: #a03cc4; } .t-vote { stroke: #0f9aa8; } .t-log { stroke: #2f9d55; }\n",
    ".t-commit { stroke: #16713a; }\n",
    ".t-apply { stroke: #117c8a; }\n",
    ".t-persist { stroke: #7d8592; }\n",
    ".t-snap { stroke: #b0479b; }\n",
    ".t-client { stroke: #2747a8; }\n",
    ".t-test { stroke: #1d2330; }\n",
    ".hide-kernel .t-kernel, .hide-net .t-net, .hide-timer .t-timer, .hide-role .t-role,\n",
    ".hide-vote .t-vote, .hide-log .t-log, .hide-commit .t-commit, .hide-apply .t-apply,\n",
    ".hide-persist .t-persist, .hide-snap .t-snap,\n",
    ".hide-fault .t-fault, .hide-client .t-client,\n",
    ".hide-test .t-test { display: none; }\n",
    "</style>\n",
    NULL,
};

static const char *const html_body[] = {
    "</head>\n",
    "<body>\n",
    "<header>\n",
    "<h1 id=\"title\"></h1>\n",
    "<div class=\"meta\" id=\"meta\"></div>\n",
    "<div class=\"bar\">\n",
    "<span>\n",
    "<button id=\"zoom-in\" title=\"zoom in (+)\">+</button>\n",
    "<button id=\"zoom-out\" title=\"zoom out (-)\">&minus;</button>\n",
    "<button id=\"zoom-fit\" title=\"fit the window (0)\">fit</button>\n",
    "</span>\n",
    "<span id=\"topics\"></span>\n",
    "<span class=\"legend\">\n",
    "<span><svg width=\"26\" height=\"10\"><line x1=\"1\" y1=\"5\" x2=\"25\" y2=\"5\"\n",
    "  class=\"arrow a-req\"/></svg> request</span>\n",
    "<span><svg width=\"26\" height=\"10\"><line x1=\"1\" y1=\"5\" x2=\"25\" y2=\"5\"\n",
    "  class=\"arrow a-rep\"/></svg> reply</span>\n",
    "<span><svg width=\"26\" height=\"10\"><line x1=\"1\" y1=\"5\" x2=\"25\" y2=\"5\"\n",
    "  class=\"arrow a-lost\"/></svg> lost reply</span>\n",
    "<span><svg width=\"12\" height=\"12\"><line x1=\"6\" y1=\"0\" x2=\"6\" y2=\"12\"\n",
    "  class=\"fault\"/></svg> fault</span>\n",
    "<span>role bars: tall = leader, half = candidate, thin = follower;\n",
    "  colour = term</span>\n",
    "</span>\n",
    "</div>\n",
    "</header>\n",
    "<div id=\"view\"><svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\"></svg></div>\n",
    "<div id=\"info\">Click an event, message or role bar for its details.</div>\n",
    "<div id=\"summary\"></div>\n",
    NULL,
};

static const char *const html_script[] = {
    "(function () {\n",
    "  'use strict';\n",
    "  var D = JSON.parse(document.getElementById('trace-data').textContent);\n",
    "  var NS = 'http://www.w3.org/2000/svg';\n",
    "  var LANE = 54, LEFT = 92, TOP = 30, RIGHT = 40, WIDTH_MAX = 16000000;\n",
    "  var SHARDS = 10, SHARD_LANE = 22, SHARD_GAP = 26;\n",
    "  var ROLES = ['follower', 'candidate', 'leader'];\n",
    "  var TYPES = ['req', 'rep', 'lost'];\n",
    "  var TYPE_NAMES = ['request', 'reply', 'lost reply'];\n",
    "  var svg = document.getElementById('timeline');\n",
    "  var view = document.getElementById('view');\n",
    "  var info = document.getElementById('info');\n",
    "  var span = Math.max(1, D.end_us - D.begin_us);\n",
    "  var scale = 1;\n",
    "\n",
    "  function el(tag, attrs, parent, text) {\n",
    "    var e = document.createElementNS(NS, tag);\n",
    "    for (var k in attrs) e.setAttribute(k, attrs[k]);\n",
    "    if (text !== undefined) e.textContent = text;\n",
    "    if (parent) parent.appendChild(e);\n",
    "    return e;\n",
    "  }\n",
    "  function tip(e, text) { el('title', {}, e, text); return e; }\n",
    "  function x(t) { return LEFT + (t - D.begin_us) * scale; }\n",
    "  function mid(lane) { return TOP + lane * LANE + LANE / 2; }\n",
    "  function secs(t) { return (t / 1e6).toFixed(6) + ' s'; }\n",
    /* A lab 1 trace (it has mr.* kinds) names its lanes by process role. */
    "  var MR = D.kinds.some(function (k) { return k[0].indexOf('mr.') === 0; });\n",
    "  function nodeName(lane) {\n",
    "    var n = D.nodes[lane];\n",
    "    if (D.names[lane]) return D.names[lane];\n",
    "    if (n >= 0 && MR) return n === 0 ? 'coordinator' : 'worker ' + n;\n",
    "    return n < 0 ? 'test' : 'node ' + n;\n",
    "  }\n",
    "  function termColor(term) {\n",
    "    return 'hsl(' + Math.round((term * 137.508) % 360) + ',60%,52%)';\n",
    "  }\n",
    "  function roleName(r) { return ROLES[r] || ('role ' + r); }\n",
    "  function describe(e) {\n",
    "    var k = D.kinds[e[2]];\n",
    "    var s = secs(e[0]) + '  ' + nodeName(e[1]) + '  ' + k[0];\n",
    "    for (var i = 0; i < k[2].length; i++) {\n",
    "      var v = e[3][i];\n",
    "      if (k[3] === 'role' && k[2][i] === 'role') v = roleName(v);\n",
    "      s += ' ' + k[2][i] + '=' + v;\n",
    "    }\n",
    "    if (e[4]) s += '  ' + e[4];\n",
    "    return s;\n",
    "  }\n",
    "  function fitScale() {\n",
    "    return Math.max(200, view.clientWidth - LEFT - RIGHT - 4) / span;\n",
    "  }\n",
    "  function tickStep() {\n",
    "    var base = 1;\n",
    "    for (var n = 0; n < 20; n++, base *= 10) {\n",
    "      var m = [1, 2, 5];\n",
    "      for (var i = 0; i < 3; i++) if (m[i] * base * scale >= 90) return m[i] * base;\n",
    "    }\n",
    "    return base;\n",
    "  }\n",
    "  function tickLabel(t, step) {\n",
    "    var d = step >= 1e6 ? 0 : step >= 1e5 ? 1 : step >= 1e4 ? 2 : step >= 1e3 ? 3 : 6;\n",
    "    return (t / 1e6).toFixed(d) + 's';\n",
    "  }\n",
    /* Lab 5: the controller's assignments per shard, and the kinds of shard moves. */
    "  function kindIndex(name) {\n",
    "    for (var i = 0; i < D.kinds.length; i++) if (D.kinds[i][0] === name) return i;\n",
    "    return -1;\n",
    "  }\n",
    "  function field(e, name) { return e[3][D.kinds[e[2]][2].indexOf(name)]; }\n",
    "  var ASSIGN = kindIndex('sc.assign'), MOVES = {};\n",
    "  ['send', 'receive', 'delete'].forEach(function (m) {\n",
    "    var k = kindIndex('skv.' + m);\n",
    "    if (k >= 0) MOVES[k] = m;\n",
    "  });\n",
    "  function ownership() {\n",
    "    var lanes = [], newest = [], any = false;\n",
    "    for (var s = 0; s < SHARDS; s++) { lanes.push([]); newest.push(-1); }\n",
    "    for (var i = 0; i < D.events.length; i++) {\n",
    "      var e = D.events[i];\n",
    "      if (e[2] !== ASSIGN) continue;\n",
    "      any = true;\n",
    "      var num = field(e, 'num'), sh = field(e, 'shard');\n",
    "      if (!(sh >= 0 && sh < SHARDS) || num <= newest[sh]) continue;\n",
    "      var l = lanes[sh];\n",
    "      newest[sh] = num;\n",
    "      if (l.length) l[l.length - 1].end = e[0];\n",
    "      l.push({ begin: e[0], end: D.end_us, gid: field(e, 'gid'), num: num });\n",
    "    }\n",
    "    return any ? lanes : null;\n",
    "  }\n",
    "  var OWNERS = ownership();\n",
    "  function gidColor(gid) {\n",
    "    return 'hsl(' + Math.round((gid * 83.3) % 360) + ',55%,50%)';\n",
    "  }\n",
    "  function shardTop(s) { return TOP + D.nodes.length * LANE + SHARD_GAP + s * SHARD_LANE; }\n",
    "  function drawOwners(g, s, y) {\n",
    "    OWNERS[s].forEach(function (o) {\n",
    "      if (o.gid === 0) return;\n",
    "      var w = Math.max(1, x(o.end) - x(o.begin));\n",
    "      tip(el('rect', { x: x(o.begin), y: y + 3, width: w, height: SHARD_LANE - 6,\n",
    "        fill: gidColor(o.gid), 'class': 'owner', 'data-gid': o.gid }, g),\n",
    "        'shard ' + s + ': group ' + o.gid + ' (config ' + o.num + '), ' + secs(o.begin) +\n",
    "        ' to ' + secs(o.end));\n",
    "      if (w > 34) {\n",
    "        el('text', { x: x(o.begin) + 4, y: y + SHARD_LANE / 2 + 4, 'class': 'span-label' },\n",
    "          g, 'g' + o.gid);\n",
    "      }\n",
    "    });\n",
    "  }\n",
    "  function drawMoves(root) {\n",
    "    var g = el('g', { 'class': 'moves' }, root);\n",
    "    for (var i = 0; i < D.events.length; i++) {\n",
    "      var e = D.events[i], m = MOVES[e[2]], sh = m ? field(e, 'shard') : -1;\n",
    "      if (!(sh >= 0 && sh < SHARDS)) continue;\n",
    "      tip(el('circle', { cx: x(e[0]), cy: shardTop(sh) + SHARD_LANE / 2, r: 3.5,\n",
    "        'class': 'move move-' + m, 'data-ev': i }, g), describe(e));\n",
    "    }\n",
    "  }\n",
    "  function drawShards(root, width) {\n",
    "    if (!OWNERS) return;\n",
    "    var g = el('g', { 'class': 'shards' }, root);\n",
    "    el('text', { x: 10, y: shardTop(0) - 8, 'class': 'lane-label' }, g,\n",
    "      'shard owners (colour = group; dots: blue sent, green received, white deleted)');\n",
    "    for (var s = 0; s < SHARDS; s++) {\n",
    "      var y = shardTop(s), lane = el('g', { 'class': 'shard-lane', 'data-shard': s }, g);\n",
    "      el('rect', { x: 0, y: y, width: width, height: SHARD_LANE,\n",
    "        'class': s % 2 ? 'lane-bg odd' : 'lane-bg' }, lane);\n",
    "      el('text', { x: 10, y: y + SHARD_LANE / 2 + 4, 'class': 'lane-label' }, lane,\n",
    "        'shard ' + s);\n",
    "      drawOwners(lane, s, y);\n",
    "    }\n",
    "    drawMoves(g);\n",
    "  }\n",
    "  function markers(root) {\n",
    "    var defs = el('defs', {}, root);\n",
    "    var colours = ['#3b6fd6', '#2f9d55', '#d83b3b'];\n",
    "    for (var i = 0; i < 3; i++) {\n",
    "      var m = el('marker', { id: 'head-' + TYPES[i], viewBox: '0 0 10 10',\n",
    "        refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, defs);\n",
    "      el('path', { d: 'M0,0 L10,5 L0,10 z', fill: colours[i] }, m);\n",
    "    }\n",
    "  }\n",
    "  function drawLanes(root, width) {\n",
    "    for (var l = 0; l < D.nodes.length; l++) {\n",
    "      var g = el('g', { 'class': 'lane', 'data-node': D.nodes[l] }, root);\n",
    "      el('rect', { x: 0, y: TOP + l * LANE, width: width, height: LANE,\n",
    "        'class': l % 2 ? 'lane-bg odd' : 'lane-bg' }, g);\n",
    "      el('line', { x1: LEFT, x2: width - 8, y1: mid(l), y2: mid(l),\n",
    "        'class': 'lane-axis' }, g);\n",
    "      el('text', { x: 10, y: mid(l) + 4, 'class': 'lane-label' }, g, nodeName(l));\n",
    "    }\n",
    "  }\n",
    "  function drawAxis(root, height) {\n",
    "    var g = el('g', { 'class': 'axis' }, root);\n",
    "    var step = tickStep();\n",
    "    for (var t = Math.ceil(D.begin_us / step) * step; t <= D.end_us; t += step) {\n",
    "      el('line', { x1: x(t), x2: x(t), y1: TOP - 6, y2: height, 'class': 'tick' }, g);\n",
    "      el('text', { x: x(t) + 3, y: TOP - 10, 'class': 'tick-label' }, g,\n",
    "        tickLabel(t, step));\n",
    "    }\n",
    "  }\n",
    "  function setName(bits) {\n",
    "    var out = [];\n",
    "    for (var i = 0; i < 32; i++) if (Math.floor(bits / Math.pow(2, i)) % 2) out.push(i);\n",
    "    return '{' + out.join(',') + '}';\n",
    "  }\n",
    "  function isConfig(e) { return D.kinds[e[2]][0] === 'raft.config'; }\n",
    "  var CONFIGS = null;\n",
    "  function membership(lane, t) {\n",
    "    if (CONFIGS === null) {\n",
    "      CONFIGS = {};\n",
    "      for (var i = 0; i < D.events.length; i++) {\n",
    "        var e = D.events[i];\n",
    "        if (isConfig(e)) (CONFIGS[e[1]] = CONFIGS[e[1]] || []).push(e);\n",
    "      }\n",
    "    }\n",
    "    var m = '', list = CONFIGS[lane] || [], bit = Math.pow(2, D.nodes[lane]);\n",
    "    for (var j = 0; j < list.length && list[j][0] <= t; j++) {\n",
    "      m = Math.floor(list[j][3][2] / bit) % 2 ? ' learner' :\n",
    "        Math.floor(list[j][3][1] / bit) % 2 ? '' : ' non-member';\n",
    "    }\n",
    "    return m;\n",
    "  }\n",
    "  function drawSpans(root) {\n",
    "    var g = el('g', { 'class': 't-role' }, root);\n",
    "    var full = LANE - 14;\n",
    "    for (var i = 0; i < D.spans.length; i++) {\n",
    "      var s = D.spans[i], h = s[4] === 2 ? full : s[4] === 1 ? full * 0.55 : 7;\n",
    "      var w = Math.max(1, x(s[2]) - x(s[1])), y = TOP + s[0] * LANE + LANE - 7 - h;\n",
    "      var r = el('rect', { x: x(s[1]), y: y, width: w, height: h,\n",
    "        fill: termColor(s[3]),\n",
    "        'class': 'span role-' + roleName(s[4]) + membership(s[0], s[1]),\n",
    "        'fill-opacity': s[4] === 2 ? 0.9 : 0.6 }, g);\n",
    "      tip(r, nodeName(s[0]) + ': ' + roleName(s[4]) + ' in term ' + s[3] + ', ' +\n",
    "        secs(s[1]) + ' to ' + secs(s[2]));\n",
    "      if (s[4] === 2 && w > 36) {\n",
    "        el('text', { x: x(s[1]) + 4, y: y + 12, 'class': 'span-label' }, g,\n",
    "          'T' + s[3]);\n",
    "      }\n",
    "    }\n",
    "  }\n",
    "  function drawFault(g, e, i, height, labels) {\n",
    "    var all = D.nodes[e[1]] < 0, px = x(e[0]);\n",
    "    var y1 = all ? TOP : TOP + e[1] * LANE, y2 = all ? height : y1 + LANE;\n",
    "    var f = el('g', { 'class': 't-fault' }, g);\n",
    "    tip(el('line', { x1: px, x2: px, y1: y1, y2: y2, 'class': 'fault',\n",
    "      'data-ev': i }, f), describe(e));\n",
    "    var rows = labels[e[1]] || (labels[e[1]] = [-1e9, -1e9, -1e9]);\n",
    "    for (var row = 0; row < 3 && px - rows[row] < 90; row++);\n",
    "    if (row === 3) return;\n",
    "    rows[row] = px;\n",
    "    el('text', { x: px + 3, y: y1 + 10 + row * 11, 'class': 'fault-label' }, f,\n",
    "      D.kinds[e[2]][0]);\n",
    "  }\n",
    "  /* Raft beyond the lab (raft/raft_ext.h): pre-votes, stickiness, check-quorum step-downs "
    "and\n",
    "   * transfers get a short label over their tick. */\n",
    "  var EXT = { 'raft.prevote_grant': 'pv+', 'raft.prevote_deny': 'pv-',\n",
    "    'raft.vote_ignored': 'sticky', 'raft.quorum_lost': 'quorum lost',\n",
    "    'raft.transfer_start': 'transfer', 'raft.timeout_now': 'TimeoutNow',\n",
    "    'raft.transfer_done': 'transfer done', 'raft.transfer_abandoned': 'abandoned' };\n",
    "  var extMarks = 0;\n",
    "  function drawEvents(root, height) {\n",
    "    var g = el('g', { 'class': 'events' }, root), faults = 0, labels = {};\n",
    "    for (var i = 0; i < D.events.length; i++) {\n",
    "      var e = D.events[i], k = D.kinds[e[2]], px = x(e[0]);\n",
    "      if (k[1] === 'fault') {\n",
    "        drawFault(g, e, i, height, labels);\n",
    "        faults++;\n",
    "        continue;\n",
    "      }\n",
    "      if (isConfig(e)) {\n",
    "        var m = mid(e[1]), pts = [px, m - 7, px + 6, m, px, m + 7, px - 6, m].join(' ');\n",
    "        tip(el('polygon', { points: pts, 'class': 'config t-' + k[1], 'data-ev': i }, g),\n",
    "          describe(e) + '\\nvoters ' + setName(e[3][1]) + ', learners ' +\n",
    "          setName(e[3][2]));\n",
    "        continue;\n",
    "      }\n",
    "      tip(el('line', { x1: px, x2: px, y1: mid(e[1]) - 6, y2: mid(e[1]) + 6,\n",
    "        'class': 'ev t-' + k[1], 'data-ev': i }, g), describe(e));\n",
    "      if (EXT[k[0]]) {\n",
    "        el('text', { x: px + 2, y: mid(e[1]) - 8, 'class': 'ext-label t-' + k[1] }, g,\n",
    "          EXT[k[0]]);\n",
    "        extMarks++;\n",
    "      }\n",
    "    }\n",
    "    return faults;\n",
    "  }\n",
    "  function drawLinks(root) {\n",
    "    var g = el('g', { 'class': 't-net' }, root);\n",
    "    for (var i = 0; i < D.links.length; i++) {\n",
    "      var l = D.links[i], a = D.events[l[0]], b = D.events[l[1]], type = TYPES[l[2]];\n",
    "      var ln = el('line', { x1: x(a[0]), y1: mid(a[1]), x2: x(b[0]), y2: mid(b[1]),\n",
    "        'class': 'arrow a-' + type, 'marker-end': 'url(#head-' + type + ')' }, g);\n",
    "      tip(ln, TYPE_NAMES[l[2]] + ': ' + nodeName(a[1]) + ' -> ' + nodeName(b[1]) +\n",
    "        ', ' + secs(a[0]) + ' to ' + secs(b[0]) + ' (' +\n",
    "        ((b[0] - a[0]) / 1000).toFixed(3) + ' ms)\\n' + describe(a) + '\\n' +\n",
    "        describe(b));\n",
    "    }\n",
    "  }\n",
    "  function summarise(faults) {\n",
    "    var sum = document.getElementById('summary');\n",
    "    sum.setAttribute('data-lanes', svg.querySelectorAll('g.lane').length);\n",
    "    sum.setAttribute('data-arrows', svg.querySelectorAll('line.arrow').length);\n",
    "    sum.setAttribute('data-spans', svg.querySelectorAll('rect.span').length);\n",
    "    sum.setAttribute('data-events', D.events.length);\n",
    "    sum.setAttribute('data-faults', faults);\n",
    "    sum.setAttribute('data-ext-marks', extMarks);\n",
    "    sum.setAttribute('data-configs', svg.querySelectorAll('polygon.config').length);\n",
    "    if (OWNERS) {\n",
    "      sum.setAttribute('data-shard-lanes', svg.querySelectorAll('g.shard-lane').length);\n",
    "      sum.setAttribute('data-owners', svg.querySelectorAll('rect.owner').length);\n",
    "      sum.setAttribute('data-moves', svg.querySelectorAll('circle.move').length);\n",
    "    }\n",
    "    sum.textContent = D.nodes.length + ' lanes, ' + D.links.length + ' messages, ' +\n",
    "      D.spans.length + ' role spans, ' + D.events.length + ' events, ' + faults +\n",
    "      ' faults';\n",
    "  }\n",
    "  function draw() {\n",
    "    while (svg.firstChild) svg.removeChild(svg.firstChild);\n",
    "    var width = Math.ceil(x(D.end_us) + RIGHT);\n",
    "    var height = TOP + D.nodes.length * LANE + 8;\n",
    "    if (OWNERS) height = shardTop(SHARDS) + 8;\n",
    "    svg.setAttribute('width', width);\n",
    "    svg.setAttribute('height', height);\n",
    "    markers(svg);\n",
    "    drawLanes(el('g', { 'class': 'lanes' }, svg), width);\n",
    "    drawShards(svg, width);\n",
    "    drawAxis(svg, height);\n",
    "    drawSpans(svg);\n",
    "    var faults = drawEvents(svg, height);\n",
    "    drawLinks(svg);\n",
    "    summarise(faults);\n",
    "  }\n",
    "  function zoom(f) {\n",
    "    var centre = (view.scrollLeft + view.clientWidth / 2 - LEFT) / scale;\n",
    "    var fit = fitScale(), most = Math.max(fit, WIDTH_MAX / span);\n",
    "    scale = f === 0 ? fit : Math.min(Math.max(scale * f, fit), most);\n",
    "    draw();\n",
    "    view.scrollLeft = Math.max(0, centre * scale + LEFT - view.clientWidth / 2);\n",
    "  }\n",
    "  function topicBox(box, t) {\n",
    "    var label = document.createElement('label');\n",
    "    var c = document.createElement('input');\n",
    "    c.type = 'checkbox';\n",
    "    c.checked = true;\n",
    "    c.addEventListener('change', function () {\n",
    "      svg.classList.toggle('hide-' + t, !c.checked);\n",
    "    });\n",
    "    label.appendChild(c);\n",
    "    label.appendChild(document.createTextNode(' ' + t));\n",
    "    box.appendChild(label);\n",
    "    box.appendChild(document.createTextNode(' '));\n",
    "  }\n",
    "  function topicBoxes() {\n",
    "    var box = document.getElementById('topics'), seen = {};\n",
    "    for (var i = 0; i < D.kinds.length; i++) seen[D.kinds[i][1]] = true;\n",
    "    if (D.links.length) seen.net = true;\n",
    "    Object.keys(seen).sort().forEach(function (t) { topicBox(box, t); });\n",
    "  }\n",
    "  document.getElementById('title').textContent = D.title;\n",
    "  document.title = 'labsim: ' + D.title;\n",
    "  document.getElementById('meta').textContent = 'seed ' + D.seed + ' \\u00b7 digest ' +\n",
    "    D.digest + ' \\u00b7 ' + secs(D.begin_us) + ' to ' + secs(D.end_us) + ' virtual' +\n",
    "    (D.truncated ? ' \\u00b7 recording was truncated' : '');\n",
    "  document.getElementById('zoom-in').onclick = function () { zoom(2); };\n",
    "  document.getElementById('zoom-out').onclick = function () { zoom(0.5); };\n",
    "  document.getElementById('zoom-fit').onclick = function () { zoom(0); };\n",
    "  document.addEventListener('keydown', function (ev) {\n",
    "    if (ev.key === '+' || ev.key === '=') zoom(2);\n",
    "    else if (ev.key === '-') zoom(0.5);\n",
    "    else if (ev.key === '0') zoom(0);\n",
    "  });\n",
    "  svg.addEventListener('click', function (ev) {\n",
    "    var t = ev.target.querySelector && ev.target.querySelector('title');\n",
    "    if (t) info.textContent = t.textContent;\n",
    "  });\n",
    "  topicBoxes();\n",
    "  scale = fitScale();\n",
    "  draw();\n",
    "})();\n",
    NULL,
};

static void html_lines(FILE *out, const char *const *lines)
{
    for (size_t i = 0; lines[i] != NULL; i++)
        fputs(lines[i], out);
}

/* Text for an HTML element body: the five specials escaped, unprintable bytes as '?'. */
static void html_text(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '<')
            fputs("&lt;", out);
        else if (*p == '>')
            fputs("&gt;", out);
        else if (*p == '&')
            fputs("&amp;", out);
        else if (*p == '"')
            fputs("&quot;", out);
        else if (*p == '\'')
            fputs("&#39;", out);
        else
            fputc(*p >= 0x20 && *p < 0x7f ? *p : '?', out);
    }
}

static const char *html_class_name(enum trace_file_class cls)
{
    static const char *const names[] = {
        [TRACE_FILE_GENERIC] = "generic",
        [TRACE_FILE_RPC_SEND] = "send",
        [TRACE_FILE_RPC_DELIVER] = "deliver",
        [TRACE_FILE_RPC_REPLY] = "reply",
        [TRACE_FILE_RPC_DROP_REPLY] = "drop_reply",
        [TRACE_FILE_RPC_FAIL] = "fail",
        [TRACE_FILE_ROLE] = "role",
    };
    if ((size_t)cls >= sizeof(names) / sizeof(names[0])) return "generic";
    return names[cls];
}

static void html_kinds(FILE *out, const struct trace_file *tf)
{
    fputs(",\"kinds\":[", out);
    for (size_t i = 0; i < tf->kinds_count; i++) {
        const struct trace_file_kind *kind = &tf->kinds[i];
        fputs(i == 0 ? "\n[" : ",\n[", out);
        export_json_string(out, kind->name);
        fprintf(out, ",\"%s\",[", sim_topic_name(kind->topic));
        for (int k = 0; k < kind->fields_count; k++) {
            fputs(k == 0 ? "" : ",", out);
            export_json_string(out, kind->fields[k]);
        }
        fprintf(out, "],\"%s\"]", html_class_name(kind->cls));
    }
    fputs("]", out);
}

/* The page being written: the events go to `out`, links and spans to their scratch files. */
struct html_writer {
    FILE *out;
    FILE *links;
    FILE *spans;
    const struct export_walk *walk;
    int lane_of[TRACE_FILE_NODES_MAX]; /* node index -> lane, -1 when hidden */
};

static void html_event(void *arg, const struct trace_file_event *ev, size_t kept_index)
{
    struct html_writer *w = arg;
    const struct trace_file_kind *kind = trace_file_event_kind(w->walk->tf, ev);
    SIM_ASSERT(NULL, ev->node, w->lane_of[ev->node_index] >= 0);
    fprintf(w->out, "%s[%llu,%d,%u,[", kept_index == 0 ? "\n" : ",\n",
            (unsigned long long)ev->at_us, w->lane_of[ev->node_index], (unsigned)ev->kind);
    for (int k = 0; k < kind->fields_count; k++) {
        fputs(k == 0 ? "" : ",", w->out);
        export_json_int(w->out, ev->v[k]);
    }
    fputs("],", w->out);
    export_json_string(w->out, ev->text);
    fputs("]", w->out);
}

static void html_link(void *arg, const struct export_link *link)
{
    struct html_writer *w = arg;
    fprintf(w->links, "%s[%zu,%zu,%d]", link->id == 0 ? "\n" : ",\n", link->from.tag, link->to.tag,
            (int)link->type);
}

static void html_span(void *arg, const struct trace_file_span *span)
{
    struct html_writer *w = arg;
    fprintf(w->spans, "%s[%d,%llu,%llu,", ftell(w->spans) == 0 ? "\n" : ",\n",
            w->lane_of[span->node_index], (unsigned long long)span->begin_us,
            (unsigned long long)span->end_us);
    export_json_int(w->spans, span->term);
    fputc(',', w->spans);
    export_json_int(w->spans, span->role);
    fputc(']', w->spans);
}

/* Copies a scratch file to the page. Returns false on a read error. */
static bool html_copy(FILE *out, FILE *scratch)
{
    char buf[8192];
    size_t n = 0;
    if (fflush(scratch) != 0 || fseek(scratch, 0, SEEK_SET) != 0) return false;
    while ((n = fread(buf, 1, sizeof(buf), scratch)) > 0)
        fwrite(buf, 1, n, out);
    return !ferror(scratch);
}

/* The embedded trace up to its "events" array, which it opens; lanes are chosen here. */
static void html_data_head(struct html_writer *w)
{
    const struct trace_file *tf = w->walk->tf;
    int lanes = 0;
    fputs("{\"title\":", w->out);
    export_json_string(w->out, tf->title);
    fprintf(w->out, ",\"seed\":\"%llu\",\"digest\":\"%016llx\",\"truncated\":%s",
            (unsigned long long)tf->seed, (unsigned long long)tf->digest,
            tf->truncated ? "true" : "false");
    fprintf(w->out, ",\"begin_us\":%llu,\"nodes\":[", (unsigned long long)w->walk->begin_us);
    for (size_t i = 0; i < tf->nodes_count; i++) {
        w->lane_of[i] = -1;
        if (!export_walk_node_shown(w->walk, i)) continue;
        fprintf(w->out, "%s%d", lanes == 0 ? "" : ",", (int)tf->nodes[i]);
        w->lane_of[i] = lanes++;
    }
    fputs("],\"names\":[", w->out);
    for (size_t i = 0, shown = 0; i < tf->nodes_count; i++) {
        if (w->lane_of[i] < 0) continue;
        const char *name = trace_file_node_name(tf, i);
        fputs(shown++ == 0 ? "" : ",", w->out);
        export_json_string(w->out, name != NULL ? name : "");
    }
    fputs("]", w->out);
    html_kinds(w->out, tf);
    fputs(",\"events\":[", w->out);
}

/* The embedded trace (see the file comment for its shape), written as the walk goes. */
static int html_data(struct html_writer *w, struct export_walk *walk, struct trace_file_error *err)
{
    const struct export_sink sink = {w, html_event, html_link, html_span};
    html_data_head(w);
    int rc = export_walk_run(walk, &sink, err);
    fputs("],\"links\":[", w->out);
    bool copied = html_copy(w->out, w->links);
    fputs("],\"spans\":[", w->out);
    copied = html_copy(w->out, w->spans) && copied;
    fprintf(w->out, "],\"end_us\":%llu}\n", (unsigned long long)walk->end_us);
    if (rc == TRACE_FILE_OK && !copied) {
        snprintf(err->msg, sizeof(err->msg), "cannot read back a scratch file");
        rc = EXPORT_ESCRATCH;
    }
    return rc;
}

int export_html(FILE *out, struct export_walk *walk, struct trace_file_error *err)
{
    struct html_writer w = {.out = out, .walk = walk};
    w.links = tmpfile();
    w.spans = tmpfile();
    int rc = EXPORT_ESCRATCH;
    html_lines(out, html_head);
    fputs("<title>labsim: ", out);
    html_text(out, walk->tf->title);
    fputs("</title>\n", out);
    html_lines(out, html_body);
    fputs("<script type=\"application/json\" id=\"trace-data\">\n", out);
    if (w.links != NULL && w.spans != NULL) {
        rc = html_data(&w, walk, err);
    } else {
        snprintf(err->msg, sizeof(err->msg), "cannot create a scratch file: %s", strerror(errno));
        fputs("{}\n", out);
    }
    fputs("</script>\n<script>\n", out);
    html_lines(out, html_script);
    fputs("</script>\n</body>\n</html>\n", out);
    if (w.links != NULL) fclose(w.links);
    if (w.spans != NULL) fclose(w.spans);
    return rc;
}
