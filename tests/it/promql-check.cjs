// Checks the PromQL of alert rules and Grafana dashboards against the
// worker's metrics (deploy/metrics.yaml): every expression parses (with
// Prometheus's lezer grammar), every metric it reads exists, and every
// label it matches, groups or joins on is one those metrics have (or one
// Prometheus adds when scraping). With --promtool-rules OUT it also writes
// every expression as a recording rule, so that `promtool check rules OUT`
// parses them with Prometheus's own parser.
//
// usage: node promql-check.cjs [--promtool-rules OUT] METRICS.yaml
//            (--rules FILE | --dashboard FILE)...
// Needs NODE_PATH with yaml and @prometheus-io/lezer-promql (lib-npm.sh).
"use strict";
const fs = require("fs");
const YAML = require("yaml");
const { parser } = require("@prometheus-io/lezer-promql");

const args = process.argv.slice(2);
let promtoolOut = null;
if (args[0] === "--promtool-rules") {
	promtoolOut = args[1];
	args.splice(0, 2);
}
const catalog = YAML.parse(fs.readFileSync(args.shift(), "utf8"));
const targetLabels = new Set(catalog.target_labels);
const errors = [];
const checked = [];

/* The labels of a series name, or null for an unknown name. */
function labelsOf(name) {
	const m = catalog.metrics[name];
	if (m)
		return m.labels;
	const h = /^(.*)_(bucket|sum|count)$/.exec(name);
	const base = h && catalog.metrics[h[1]];
	if (base && base.type === "histogram")
		return h[2] === "bucket" ? [...base.labels, "le"] : base.labels;
	return null;
}

function children(node) {
	const out = [];
	for (let c = node.firstChild; c; c = c.nextSibling)
		out.push(c);
	return out;
}

function descendants(node, name) {
	const out = [];
	const cur = node.cursor();
	const end = node.to;
	if (!cur.firstChild())
		return out;
	do {
		if (cur.from >= end)
			break;
		if (cur.name === name)
			out.push(cur.node);
	} while (cur.next() && cur.from < end);
	return out;
}

function text(src, node) {
	return src.slice(node.from, node.to);
}

function unquote(s) {
	return s.replace(/^["'`]|["'`]$/g, "");
}

/* Labels available under node: those of every metric below it, those
 * label_replace, label_join and count_values create, and the target's. */
function available(src, node) {
	const set = new Set(targetLabels);
	for (const sel of descendants(node, "VectorSelector")) {
		const labels = labelsOf(selectorName(src, sel) || "");
		(labels || []).forEach((l) => set.add(l));
	}
	for (const call of descendants(node, "FunctionCall")) {
		const fn = text(src, call).split("(")[0].trim();
		if (fn === "label_replace" || fn === "label_join") {
			const strs = descendants(call, "StringLiteral");
			if (strs.length)
				set.add(unquote(text(src, strs[0])));
		}
	}
	for (const agg of descendants(node, "AggregateExpr")) {
		if (/^\s*count_values/.test(text(src, agg))) {
			const strs = descendants(agg, "StringLiteral");
			if (strs.length)
				set.add(unquote(text(src, strs[0])));
		}
	}
	return set;
}

function selectorName(src, sel) {
	const id = children(sel).find((c) => c.name === "Identifier");
	if (id)
		return text(src, id);
	for (const m of descendants(sel, "UnquotedLabelMatcher")) {
		const [name, op, value] = children(m);
		if (name && text(src, name) === "__name__" && op &&
		    text(src, op) === "=" && value)
			return unquote(text(src, value));
	}
	return null;
}

function checkExpr(where, expr) {
	// Grafana's interval variables stand where a duration does.
	const src = expr.replace(
		/\$__rate_interval|\$__interval|\$__range|\$\{__(rate_interval|interval|range)\}/g,
		"5m");
	checked.push({ where, expr: src });
	const tree = parser.parse(src);
	const fail = (msg) => errors.push(`${where}: ${msg}\n    ${expr.trim()}`);
	let syntax = false;
	tree.iterate({
		enter(n) {
			if (n.type.isError && !syntax) {
				syntax = true;
				fail(`syntax error at column ${n.from + 1}`);
			}
		},
	});
	if (syntax)
		return;
	const top = tree.topNode;
	let metrics = 0;
	for (const sel of descendants(top, "VectorSelector")) {
		const name = selectorName(src, sel);
		if (!name) {
			fail(`a selector without a metric name: ${text(src, sel)}`);
			continue;
		}
		const labels = labelsOf(name);
		if (!labels) {
			fail(`unknown metric '${name}'`);
			continue;
		}
		metrics++;
		const allowed = new Set([...labels, ...targetLabels, "__name__"]);
		for (const ln of descendants(sel, "LabelName")) {
			const l = text(src, ln);
			if (!allowed.has(l))
				fail(`${name} has no label '${l}'`);
		}
	}
	if (!metrics && !errors.length)
		fail("reads no metric");
	// by/without of aggregations, on/ignoring/group_* of binary operators.
	for (const kind of ["AggregateExpr", "BinaryExpr"]) {
		for (const node of descendants(top, kind).concat(
			     top.name === kind ? [top] : [])) {
			const mod = children(node).find(
				(c) => c.name === "AggregateModifier" ||
				       c.name === "MatchingModifierClause");
			if (!mod)
				continue;
			const avail = available(src, node);
			for (const ln of descendants(mod, "LabelName")) {
				const l = text(src, ln);
				if (!avail.has(l))
					fail(`groups or joins on '${l}', which none of its metrics has`);
			}
		}
	}
}

function checkRules(file) {
	const doc = YAML.parse(fs.readFileSync(file, "utf8"));
	for (const g of doc.groups || [])
		for (const r of g.rules || [])
			checkExpr(`${file}: ${r.alert || r.record}`, String(r.expr));
}

function panelsOf(list) {
	const out = [];
	for (const p of list || []) {
		out.push(p);
		out.push(...panelsOf(p.panels));
	}
	return out;
}

function checkDashboard(file) {
	const d = JSON.parse(fs.readFileSync(file, "utf8"));
	for (const p of panelsOf(d.panels))
		for (const t of p.targets || [])
			if (t.expr !== undefined)
				checkExpr(`${file}: panel '${p.title}' ${t.refId}`, t.expr);
	for (const v of (d.templating && d.templating.list) || []) {
		if (v.type !== "query")
			continue;
		const q = typeof v.query === "string" ? v.query : v.query.query;
		const where = `${file}: variable '${v.name}'`;
		let m;
		if ((m = /^label_values\((.*),\s*(\w+)\s*\)$/.exec(q))) {
			checkExpr(where, m[1]);
			const sel = parser.parse(m[1]).topNode;
			const avail = available(m[1], sel);
			if (!avail.has(m[2]))
				errors.push(`${where}: no metric of '${m[1]}' has the label '${m[2]}'`);
		} else if ((m = /^query_result\((.*)\)$/.exec(q))) {
			checkExpr(where, m[1]);
		} else {
			errors.push(`${where}: unexpected query '${q}'`);
		}
	}
	for (const a of (d.annotations && d.annotations.list) || [])
		if (a.expr)
			checkExpr(`${file}: annotation '${a.name}'`, a.expr);
}

while (args.length) {
	const [flag, file] = args.splice(0, 2);
	if (flag === "--rules")
		checkRules(file);
	else if (flag === "--dashboard")
		checkDashboard(file);
	else
		throw new Error(`unknown argument ${flag}`);
}

if (promtoolOut) {
	const rules = checked.map((c, i) => ({ record: `check:expr_${i}`,
					      expr: c.expr }));
	fs.writeFileSync(promtoolOut, JSON.stringify(
		{ groups: [{ name: "promql-check", rules }] }, null, 1));
}
if (errors.length) {
	console.error(errors.join("\n"));
	process.exit(1);
}
console.log(`ok: ${checked.length} expressions`);
