/* lin_html.c: the HTML view of a check result.
 *
 * Writes one self-contained page: CSS and JavaScript inline, the result as JSON in a
 * <script type="application/json"> element, no network fetches. The script draws an SVG
 * timeline with one row per client and one bar per operation (call to return, on a
 * compressed time axis: each distinct instant gets one column, so bursts stay readable), the
 * fault markers as vertical lines, a partition selector, the selected partition's
 * linearization (or longest prefix) as a path through one point per operation, and on
 * ILLEGAL the operation that cannot be placed in red with the state before it and the last
 * steps of the prefix. When done it sets data-bars on #lin-status (tests read it).
 *
 * The JSON is escaped so that no text from a history can end the script element or break the
 * page: '<', '>' and '&' and every byte outside printable ASCII become \u escapes.
 */
#include <string.h>

#include "lin_int.h"

static const char *const html_head[] = {
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
    "<title>labsim linearizability check</title>\n<style>\n",
    "body{font:13px/1.4 sans-serif;margin:12px;color:#222;background:#fff}\n",
    "h1{font-size:17px;margin:0 0 6px}\n",
    ".v-OK{color:#1a7f37}.v-ILLEGAL{color:#c62828}.v-UNKNOWN{color:#9a6700}\n",
    "#bar{margin:4px 0 8px}#bar select{font-size:13px}\n",
    "#timeline{overflow:auto;border:1px solid #ddd;max-height:560px}\n",
    "svg text{font:11px monospace;fill:#222}\n",
    "rect.op{stroke:#555;stroke-width:.6}\n",
    "rect.op.OK{fill:#b7e4c7}rect.op.ILLEGAL{fill:#f4c7c3}rect.op.UNKNOWN{fill:#ffe8a3}\n",
    "rect.op.fail{fill:#e53935;stroke:#7f0000;stroke-width:2.5}\n",
    "g.dim{opacity:.18}\n",
    "line.row{stroke:#eee}line.marker{stroke:#8e24aa;stroke-width:1.5;stroke-dasharray:4 3}\n",
    "text.marker-label{fill:#8e24aa}\n",
    "polyline.lin{fill:none;stroke:#1565c0;stroke-width:1.5}\n",
    "circle.lin{fill:#1565c0}text.linno{fill:#0d47a1;font-size:9px}\n",
    "text.failnote{fill:#b71c1c;font-weight:bold}\n",
    "#details table{border-collapse:collapse;margin-top:6px}\n",
    "#details td,#details th{border:1px solid #ddd;padding:2px 6px;text-align:left;",
    "font:12px monospace;max-width:700px;overflow-wrap:anywhere}\n",
    "#details tr.fail td{background:#fdecea;color:#b71c1c;font-weight:bold}\n",
    "</style>\n</head>\n<body>\n",
    "<h1>Linearizability check: <span id=\"verdict\"></span></h1>\n",
    "<div id=\"summary\"></div>\n",
    "<div id=\"bar\"><label>Partition: <select id=\"part\"></select></label></div>\n",
    "<div id=\"timeline\"></div>\n<div id=\"details\"></div>\n",
    "<div id=\"lin-status\" data-bars=\"0\"></div>\n",
    "<script id=\"lin-data\" type=\"application/json\">\n",
};

static const char *const html_script[] = {
    "</script>\n<script>\n(function () {\n",
    "'use strict';\n",
    "var D = JSON.parse(document.getElementById('lin-data').textContent);\n",
    "var NS = 'http://www.w3.org/2000/svg';\n",
    "function el(tag, attrs, parent) {\n",
    "  var e = document.createElementNS(NS, tag);\n",
    "  for (var k in attrs) e.setAttribute(k, attrs[k]);\n",
    "  if (parent) parent.appendChild(e);\n  return e;\n}\n",
    "function h(tag, text, parent, cls) {\n",
    "  var e = document.createElement(tag);\n",
    "  if (text !== null) e.textContent = text;\n",
    "  if (cls) e.className = cls;\n",
    "  if (parent) parent.appendChild(e);\n  return e;\n}\n",
    "function cut(s, n) { return s.length > n ? s.slice(0, Math.max(0, n - 3)) + '...' : s; }\n",
    "var ops = D.ops, parts = D.parts, rowOf = new Map(), clients = [];\n",
    "ops.forEach(function (o) { if (!rowOf.has(o[0])) { rowOf.set(o[0], 0); clients.push(o[0]); } "
    "});\n",
    "clients.sort(function (a, b) { return a - b; });\n",
    "clients.forEach(function (c, i) { rowOf.set(c, i); });\n",
    "var ts = [];\n",
    "ops.forEach(function (o) { ts.push(o[1], o[2]); });\n",
    "D.markers.forEach(function (m) { ts.push(m[0]); });\n",
    "ts.sort(function (a, b) { return a - b; });\n",
    "var rank = new Map(), cols = 0;\n",
    "ts.forEach(function (t) { if (!rank.has(t)) rank.set(t, cols++); });\n",
    "var LEFT = 92, TOP = 44, ROW = 26, BAR = 16;\n",
    "var unit = Math.max(6, Math.min(48, (1120 - LEFT) / Math.max(1, cols)));\n",
    "function X(t) { return LEFT + 8 + rank.get(t) * unit; }\n",
    "var W = LEFT + 40 + cols * unit, H = TOP + clients.length * ROW + 28;\n",
    "var svg = el('svg', {width: W, height: H, id: 'tl'}, document.getElementById('timeline'));\n",
    "clients.forEach(function (c, i) {\n",
    "  var y = TOP + i * ROW;\n",
    "  el('line', {x1: LEFT, x2: W, y1: y + ROW - 3, y2: y + ROW - 3, 'class': 'row'}, svg);\n",
    "  el('text', {x: 6, y: y + BAR - 2}, svg).textContent = 'client ' + c;\n",
    "});\n",
    "D.markers.forEach(function (m, i) {\n",
    "  var x = X(m[0]);\n",
    "  el('line', {x1: x, x2: x, y1: 14 + (i % 2) * 12, y2: H - 6, 'class': 'marker'}, svg);\n",
    "  var t = el('text', {x: x + 3, y: 12 + (i % 2) * 12, 'class': 'marker-label'}, svg);\n",
    "  t.textContent = m[2] + (m[1] >= 0 ? ' (node ' + m[1] + ')' : '');\n",
    "});\n",
    "var bars = ops.map(function (o, i) {\n",
    "  var x1 = X(o[1]), x2 = Math.max(X(o[2]), x1 + 4), y = TOP + rowOf.get(o[0]) * ROW;\n",
    "  var g = el('g', {}, svg);\n",
    "  var r = el('rect', {'class': 'op ' + parts[o[3]].verdict, x: x1, y: y, width: x2 - x1,\n",
    "                      height: BAR, rx: 3, 'data-op': i}, g);\n",
    "  el('title', {}, r).textContent = '#' + i + ' client ' + o[0] + ' [' + o[1] + ', ' +\n",
    "      o[2] + '] ' + o[4] + ' (' + parts[o[3]].name + ')';\n",
    "  if (x2 - x1 > 36)\n",
    "    el('text', {x: x1 + 3, y: y + BAR - 4}, g).textContent = cut(o[4], Math.floor((x2 - x1 - "
    "6) / 6.6));\n",
    "  r.addEventListener('click', function () { showOp(i); });\n",
    "  return {g: g, r: r, x1: x1, x2: x2, y: y};\n",
    "});\n",
    "var lin = el('g', {id: 'lin'}, svg);\n",
    "var sel = document.getElementById('part'), details = document.getElementById('details');\n",
    "var v = document.getElementById('verdict');\n",
    "v.textContent = D.verdict; v.className = 'v-' + D.verdict;\n",
    "document.getElementById('summary').textContent = 'model ' + D.model + ', ' + ops.length +\n",
    "    ' operations, ' + clients.length + ' clients, ' + parts.length + ' partitions, ' +\n",
    "    D.steps + ' search steps' + (D.markers.length ? ', ' + D.markers.length + ' fault "
    "markers' : '') +\n",
    "    '. Time runs left to right, one column per distinct instant; hover a bar for its "
    "times.';\n",
    "h('option', 'all partitions', sel).value = -1;\n",
    "parts.forEach(function (p, i) {\n",
    "  h('option', p.name + ': ' + p.verdict + ' (' + p.ops + ' ops)', sel).value = i;\n",
    "});\n",
    "var first = parts.findIndex(function (p) { return p.verdict === 'ILLEGAL'; });\n",
    "if (first < 0) first = parts.length === 1 ? 0 : -1;\n",
    "sel.value = first;\n",
    "sel.addEventListener('change', function () { show(+sel.value); });\n",
    "function drawPart(pi, numbers) {\n",
    "  var p = parts[pi], prev = -Infinity, pts = [];\n",
    "  p.order.forEach(function (k, j) {\n",
    "    var b = bars[k], x = Math.min(Math.max(prev + 1, b.x1 + 2), b.x2 - 1);\n",
    "    prev = x; pts.push([x, b.y + BAR / 2]);\n",
    "  });\n",
    "  if (pts.length > 1)\n",
    "    el('polyline', {points: pts.map(function (q) { return q.join(','); }).join(' '),\n",
    "                    'class': 'lin'}, lin);\n",
    "  pts.forEach(function (q, j) {\n",
    "    var c = el('circle', {cx: q[0], cy: q[1], r: 3, 'class': 'lin'}, lin);\n",
    "    el('title', {}, c).textContent = 'step ' + (j + 1) + ': ' + ops[p.order[j]][4] +\n",
    "        '\\nstate after: ' + p.states[j + 1];\n",
    "    if (numbers) el('text', {x: q[0] + 2, y: q[1] - BAR / 2 - 1, 'class': 'linno'}, "
    "lin).textContent = j + 1;\n",
    "  });\n",
    "  if (p.fail >= 0) {\n",
    "    var b = bars[p.fail];\n",
    "    b.r.classList.add('fail');\n",
    "    var right = b.x1 > W - 420;\n",
    "    var t = el('text', {x: right ? b.x2 : b.x1, y: b.y + BAR + 9, 'class': 'failnote',\n",
    "                        'text-anchor': right ? 'end' : 'start'}, lin);\n",
    "    t.textContent = 'cannot linearize; state before: ' + cut(p.states[p.order.length], 60);\n",
    "  }\n",
    "}\n",
    "function row(tb, cells, cls) {\n",
    "  var tr = h('tr', null, tb, cls);\n",
    "  cells.forEach(function (c) { h('td', String(c), tr); });\n",
    "}\n",
    "function partDetails(pi) {\n",
    "  var p = parts[pi];\n",
    "  h('h3', 'Partition ' + p.name + ': ' + p.verdict, details, 'v-' + p.verdict);\n",
    "  var what = p.verdict === 'OK' ? 'linearization of ' : 'longest linearizable prefix: ';\n",
    "  h('div', what + p.order.length + ' of ' + p.ops + ' operations, ' + p.steps + ' steps', "
    "details);\n",
    "  var tb = h('table', null, details), hd = h('tr', null, tb);\n",
    "  ['step', 'op', 'client', 'operation', 'state after'].forEach(function (c) { h('th', c, hd); "
    "});\n",
    "  var from = p.verdict === 'OK' ? 0 : Math.max(0, p.order.length - 8);\n",
    "  if (from > 0) row(tb, ['...', '', '', from + ' earlier steps', p.states[from]]);\n",
    "  else row(tb, ['0', '', '', '(initial state)', p.states[0]]);\n",
    "  for (var j = from; j < p.order.length && j < from + 400; j++) {\n",
    "    var k = p.order[j];\n",
    "    row(tb, [j + 1, k, ops[k][0], ops[k][4], p.states[j + 1]]);\n",
    "  }\n",
    "  if (p.fail >= 0)\n",
    "    row(tb, ['X', p.fail, ops[p.fail][0], ops[p.fail][4],\n",
    "             'cannot follow state ' + p.states[p.order.length]], 'fail');\n",
    "}\n",
    "function showOp(i) {\n",
    "  var o = ops[i], p = parts[o[3]], j = p.order.indexOf(i);\n",
    "  var msg = 'op ' + i + ', client ' + o[0] + ', [' + o[1] + ', ' + o[2] + ']: ' + o[4] +\n",
    "      ' (' + p.name + ')' + (j >= 0 ? '; step ' + (j + 1) + ', state after: ' + p.states[j + "
    "1]\n",
    "      : i === p.fail ? '; cannot be linearized' : '; not in the order found');\n",
    "  var d = document.getElementById('opinfo') || h('div', null, details);\n",
    "  d.id = 'opinfo'; d.textContent = msg;\n",
    "}\n",
    "function show(pi) {\n",
    "  while (lin.firstChild) lin.removeChild(lin.firstChild);\n",
    "  while (details.firstChild) details.removeChild(details.firstChild);\n",
    "  bars.forEach(function (b, i) {\n",
    "    b.r.classList.remove('fail');\n",
    "    b.g.setAttribute('class', pi < 0 || ops[i][3] === pi ? '' : 'dim');\n",
    "  });\n",
    "  var list = pi < 0 ? parts.map(function (p, i) { return i; }) : [pi];\n",
    "  list.forEach(function (k) { drawPart(k, pi >= 0 && parts[k].order.length <= 80); });\n",
    "  list.forEach(function (k) { if (pi >= 0 || parts[k].verdict === 'ILLEGAL') partDetails(k); "
    "});\n",
    "}\n",
    "show(first);\n",
    "document.getElementById('lin-status').setAttribute('data-bars',\n",
    "    String(svg.querySelectorAll('rect.op').length));\n",
    "})();\n</script>\n</body>\n</html>\n",
};

/* Writes s as a JSON string that is also safe inside a <script> element. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        unsigned char ch = *p;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f || ch == '<' || ch == '>' || ch == '&')
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_ops(FILE *f, const struct lin_result *res)
{
    fputs("\"ops\":[", f);
    for (size_t i = 0; i < res->ops_count; i++) {
        const struct lin_result_op *o = &res->ops[i];
        fprintf(f, "%s[%d,%lld,%lld,%u,", i > 0 ? ",\n" : "", o->client, (long long)o->call_us,
                (long long)o->return_us, (unsigned)o->part);
        json_str(f, o->text);
        fputc(']', f);
    }
    fputs("],\n", f);
}

static void json_part(FILE *f, const struct lin_result_part *p)
{
    fputs("{\"name\":", f);
    json_str(f, p->name);
    fprintf(f, ",\"verdict\":\"%s\",\"ops\":%u,\"steps\":%llu,\"fail\":%lld,\"order\":[",
            lin_verdict_name(p->verdict), (unsigned)p->ops_count, (unsigned long long)p->steps,
            (long long)p->fail_op);
    for (uint32_t i = 0; i < p->order_len; i++)
        fprintf(f, "%s%u", i > 0 ? "," : "", (unsigned)p->order[i]);
    fputs("],\"states\":[", f);
    for (uint32_t i = 0; i <= p->order_len; i++) {
        fputs(i > 0 ? ",\n" : "", f);
        json_str(f, p->states[i]);
    }
    fputs("]}", f);
}

static void json_markers(FILE *f, const struct lin_marker *markers, size_t markers_count)
{
    fputs("\"markers\":[", f);
    for (size_t i = 0; i < markers_count; i++) {
        fprintf(f, "%s[%lld,%d,", i > 0 ? "," : "", (long long)markers[i].at_us, markers[i].node);
        json_str(f, markers[i].label != NULL ? markers[i].label : "");
        fputc(']', f);
    }
    fputs("]", f);
}

static void html_emit(FILE *f, const struct lin_result *res, const struct lin_marker *markers,
                      size_t markers_count)
{
    for (size_t i = 0; i < sizeof(html_head) / sizeof(html_head[0]); i++)
        fputs(html_head[i], f);
    fputs("{\"model\":", f);
    json_str(f, res->model_name);
    fprintf(f, ",\"verdict\":\"%s\",\"steps\":%llu,\n", lin_verdict_name(res->verdict),
            (unsigned long long)res->steps);
    json_ops(f, res);
    fputs("\"parts\":[", f);
    for (size_t p = 0; p < res->parts_count; p++) {
        fputs(p > 0 ? ",\n" : "", f);
        json_part(f, &res->parts[p]);
    }
    fputs("],\n", f);
    json_markers(f, markers, markers_count);
    fputs("}\n", f);
    for (size_t i = 0; i < sizeof(html_script) / sizeof(html_script[0]); i++)
        fputs(html_script[i], f);
}

int lin_html_write(const struct lin_result *res, const struct lin_marker *markers,
                   size_t markers_count, const char *path)
{
    if (res == NULL || path == NULL || (markers == NULL && markers_count > 0)) return LIN_EINVAL;
    FILE *f = fopen(path, "w");
    if (f == NULL) return LIN_EIO;
    html_emit(f, res, markers, markers_count);
    bool failed = ferror(f) != 0;
    failed = fclose(f) != 0 || failed;
    return failed ? LIN_EIO : 0;
}
