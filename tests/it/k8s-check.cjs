// Validates rendered Kubernetes manifests offline against the API schemas
// of the npm package kubernetes-models (and @kubernetes-models/
// prometheus-operator for PodMonitor and PrometheusRule): types, required
// fields, enums and formats by each model's JSON schema (ajv), and unknown
// fields, at any depth, by TypeScript's excess property checks against the
// same models' types (tsc-check.cjs). A kind without a model is an error,
// so that nothing passes unchecked.
//
// usage: node k8s-check.cjs OUTDIR RENDERED.yaml...
"use strict";
const fs = require("fs");
const YAML = require("yaml");
const { check } = require("./tsc-check.cjs");

const [outdir, ...files] = process.argv.slice(2);
const errors = [];
const imports = [];
const items = [];
const seen = new Set();

function modulePath(apiVersion, kind) {
	if (apiVersion.startsWith("monitoring.coreos.com/"))
		return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
	return `kubernetes-models/${apiVersion}/${kind}`;
}

let count = 0;
for (const file of files) {
	const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
	for (const doc of docs) {
		if (doc.errors.length) {
			errors.push(`${file}: ${doc.errors[0].message}`);
			continue;
		}
		const obj = doc.toJS();
		if (!obj)
			continue;
		count++;
		const label = `${file}: ${obj.kind}/${obj.metadata && obj.metadata.name}`;
		if (!obj.apiVersion || !obj.kind) {
			errors.push(`${label}: no apiVersion or kind`);
			continue;
		}
		const mod = modulePath(obj.apiVersion, obj.kind);
		let Model;
		try {
			Model = require(mod)[obj.kind];
		} catch (e) {
			Model = null;
		}
		if (!Model) {
			errors.push(`${label}: no schema for ${obj.apiVersion} ${obj.kind}`);
			continue;
		}
		// kustomize wraps long base64 values in lines, which the API
		// server's decoder skips and the schema's "byte" format does not.
		for (const key of ["data", "binaryData"])
			if ((obj.kind === "Secret" || key === "binaryData") && obj[key])
				for (const k of Object.keys(obj[key]))
					obj[key][k] = String(obj[key][k]).replace(/[\r\n]/g, "");
		try {
			new Model(obj).validate();
		} catch (e) {
			errors.push(`${label}: ${e.message}`);
		}
		const alias = `I${obj.apiVersion.replace(/[^A-Za-z0-9]/g, "_")}_${obj.kind}`;
		if (!seen.has(alias)) {
			seen.add(alias);
			imports.push(`import type { I${obj.kind} as ${alias} } from "${mod}";`);
		}
		items.push({ label, type: alias, value: obj });
	}
}
errors.push(...check(outdir, imports, items));
if (errors.length) {
	console.error(errors.join("\n"));
	process.exit(1);
}
console.log(`ok: ${count} resources`);
