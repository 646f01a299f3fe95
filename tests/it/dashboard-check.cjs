// Checks a Grafana dashboard JSON beyond its PromQL (promql-check.cjs):
// it has the shape of Grafana's own types (@grafana/schema: the dashboard,
// and the options of timeseries and stat panels, with no unknown keys),
// the panels tile the 24-column grid without overlapping, ids are unique,
// every query panel reads the `datasource` variable, every target has a
// unique refId, every variable a query uses is defined, and every metric
// of deploy/metrics.yaml is shown somewhere.
//
// usage: node dashboard-check.cjs OUTDIR METRICS.yaml DASHBOARD.json
"use strict";
const fs = require("fs");
const YAML = require("yaml");
const { check } = require("./tsc-check.cjs");

const [outdir, metricsFile, file] = process.argv.slice(2);
const catalog = YAML.parse(fs.readFileSync(metricsFile, "utf8"));
const d = JSON.parse(fs.readFileSync(file, "utf8"));
const errors = [];
const fail = (msg) => errors.push(`${file}: ${msg}`);

const G = "@grafana/schema/dist/esm/raw/composable";
const imports = [
	'import type { Dashboard } from "@grafana/schema";',
	`import type { Options as TimeSeriesOptions, FieldConfig as TimeSeriesFieldConfig } from "${G}/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen";`,
	`import type { Options as StatOptions } from "${G}/stat/panelcfg/x/StatPanelCfg_types.gen";`,
	// JSON holds the values of Grafana's string enums, not the enums.
	"type Json<T> = T extends string ? `${T}` : T extends (infer U)[] ? Json<U>[] :",
	"    T extends object ? { [K in keyof T]: Json<T[K]> } : T;",
];
const items = [{ label: `${file}`, type: "Json<Dashboard>", value: d }];

const panels = [];
for (const p of d.panels || []) {
	panels.push(p);
	for (const q of p.panels || [])
		panels.push(q);
}
const ids = new Set();
const cells = new Map();
const vars = new Set(((d.templating && d.templating.list) || [])
	.map((v) => v.name));
const builtin = new Set(["__rate_interval", "__interval", "__range",
			 "__all", "__field"]);
const used = new Set();
const known = new Set(["core", "bucket", "sum", "count"]);

function useVars(where, s) {
	for (const m of String(s).matchAll(/\$\{?(\w+)|\[\[(\w+)\]\]/g)) {
		const v = m[1] || m[2];
		if (!vars.has(v) && !builtin.has(v))
			fail(`${where}: undefined variable '$${v}'`);
	}
}

for (const p of panels) {
	const where = `panel ${p.id} '${p.title}'`;
	if (ids.has(p.id))
		fail(`${where}: duplicate id`);
	ids.add(p.id);
	if (!p.title)
		fail(`panel ${p.id}: no title`);
	const g = p.gridPos || {};
	if (!(g.w > 0 && g.h > 0 && g.x >= 0 && g.y >= 0 && g.x + g.w <= 24))
		fail(`${where}: gridPos ${JSON.stringify(g)} is off the grid`);
	for (let x = g.x; x < g.x + g.w; x++)
		for (let y = g.y; y < g.y + g.h; y++) {
			const k = `${x},${y}`;
			if (cells.has(k))
				fail(`${where} overlaps ${cells.get(k)}`);
			cells.set(k, where);
		}
	if (p.type === "row")
		continue;
	if (!p.datasource || p.datasource.type !== "prometheus" ||
	    p.datasource.uid !== "${datasource}")
		fail(`${where}: datasource is not the 'datasource' variable`);
	const refs = new Set();
	for (const t of p.targets || []) {
		if (refs.has(t.refId) || !t.refId)
			fail(`${where}: refId '${t.refId}' missing or repeated`);
		refs.add(t.refId);
		const extra = Object.keys(t).filter((k) => ![
			"datasource", "refId", "expr", "legendFormat", "range",
			"instant", "format", "interval", "hide", "editorMode",
			"exemplar", "intervalFactor"].includes(k));
		if (extra.length)
			fail(`${where} ${t.refId}: unknown target keys ${extra}`);
		if (!t.expr)
			fail(`${where} ${t.refId}: no expr`);
		useVars(where, t.expr);
		for (const m of t.expr.matchAll(/[a-z_:][a-z0-9_:]*/g))
			used.add(m[0]);
	}
	if (!(p.targets || []).length)
		fail(`${where}: no query`);
	if (p.type === "timeseries") {
		items.push({ label: `${where} options`,
			     type: "Partial<Json<TimeSeriesOptions>>", value: p.options });
		items.push({ label: `${where} fieldConfig.defaults.custom`,
			     type: "Partial<Json<TimeSeriesFieldConfig>>",
			     value: p.fieldConfig.defaults.custom || {} });
	} else if (p.type === "stat") {
		items.push({ label: `${where} options`,
			     type: "Partial<Json<StatOptions>>", value: p.options });
	} else {
		fail(`${where}: panel type '${p.type}' is not checked here`);
	}
}
for (const v of (d.templating && d.templating.list) || [])
	if (v.type === "query")
		useVars(`variable '${v.name}'`,
			typeof v.query === "string" ? v.query : v.query.query);
if (!d.uid || !d.title || typeof d.schemaVersion !== "number")
	fail("uid, title or schemaVersion missing");
for (const name of Object.keys(catalog.metrics)) {
	const m = catalog.metrics[name];
	if (m.scrape)
		continue;
	const names = m.type === "histogram" ?
		[`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
	if (!names.some((n) => used.has(n)))
		fail(`no panel shows ${name}`);
}

errors.push(...check(outdir, imports, items));
if (errors.length) {
	console.error([...new Set(errors)].join("\n"));
	process.exit(1);
}
console.log(`ok: ${panels.length} panels, ${items.length} typed parts`);
