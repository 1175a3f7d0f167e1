"""The MCP gateway: ``blastdoor mcp-proxy`` between any MCP client and server.

Data flow: a transport (:mod:`.stdio` for a local server, :mod:`.http` for a remote one) moves
JSON-RPC lines; :mod:`.gateway` judges every ``tools/call`` and checks every ``tools/list`` answer
against the pins kept by :mod:`.pins`, which uses :mod:`.poisoning` to spot tool descriptions that
carry instructions for the model.
"""
