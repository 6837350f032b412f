"""The policykit language server (`policykit lsp`): diagnostics as you type, hover, completion, go to
definition, references, rename, the clause outline, formatting and quick fixes for `.pol` files.

Needs the `lsp` extra (pygls); `policykit.cli_lsp` says so when it is missing. The modules below it
that do not talk to the editor (`index`, `document`, `hover`, `completion`, `navigate`, `fixes`) use
only policykit itself.
"""
