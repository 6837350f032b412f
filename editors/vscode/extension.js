// Starts `policykit lsp --stdio` for .pol files. Build with `npm install && npx vsce package`.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("policykit");
  const command = config.get("server.command", "policykit");
  const server = { command, args: ["lsp", "--stdio"], transport: TransportKind.stdio };
  const sources = config.get("sources", "");
  client = new LanguageClient("policykit", "policykit", { run: server, debug: server }, {
    documentSelector: [{ scheme: "file", language: "policykit" }, { scheme: "untitled", language: "policykit" }],
    initializationOptions: { sources: sources || undefined, debounce: config.get("debounce", 0.3) },
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
