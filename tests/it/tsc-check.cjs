// Unknown fields in JSON documents, found by TypeScript: each document is
// written as an object literal assigned to the type that describes it
// (`const d0: IDeployment = {...}`), and tsc's excess property checks
// name every key the type does not have, however deep. JSON schema
// validators accept unknown keys where the schema allows them, which is
// how a misspelt `readinesProbe` or `intervall` would pass unseen.
//
// check(dir, imports, items): imports are `import type` lines; items are
// {label, type, value}. Writes dir/check.ts and returns one message per
// error, naming the item's label.
"use strict";
const fs = require("fs");
const path = require("path");
const ts = require("typescript");

function check(dir, imports, items) {
	const lines = [...imports, ""];
	const spans = [];
	items.forEach((item, i) => {
		const start = lines.length;
		const body = JSON.stringify(item.value, null, 2).split("\n");
		lines.push(`export const item${i}: ${item.type} = ${body[0]}`,
			   ...body.slice(1));
		lines[lines.length - 1] += ";";
		spans.push({ start, end: lines.length, label: item.label });
	});
	fs.mkdirSync(dir, { recursive: true });
	const file = path.join(dir, "check.ts");
	fs.writeFileSync(file, lines.join("\n") + "\n");
	const program = ts.createProgram([file], {
		noEmit: true,
		strict: true,
		skipLibCheck: true,
		module: ts.ModuleKind.Node16,
		moduleResolution: ts.ModuleResolutionKind.Node16,
		target: ts.ScriptTarget.ES2020,
		typeRoots: [],
		types: [],
		baseUrl: dir,
		paths: { "*": [path.join(process.env.NODE_PATH || "", "*")] },
	});
	const out = [];
	for (const d of ts.getPreEmitDiagnostics(program)) {
		const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
		if (!d.file) {
			out.push(`tsc: ${msg}`);
			continue;
		}
		const { line } = d.file.getLineAndCharacterOfPosition(d.start);
		const span = spans.find((s) => line >= s.start && line < s.end);
		const where = span ? span.label : `${file}:${line + 1}`;
		// The line tells where in the document: the key that failed.
		out.push(`${where}: ${msg.split("\n")[0].slice(0, 300)}\n` +
			 `    at ${path.basename(file)}:${line + 1}: ` +
			 `${lines[line].trim().slice(0, 120)}`);
	}
	return out;
}

module.exports = { check };
