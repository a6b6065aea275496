"""A real MCP client (the `mcp` package from PyPI) driving `vault mcp`
over stdio through record.py, for tests/it/mcp.rs.

usage: client.py SCENARIO.json RESULT.json LOG VAULT [MCP-ARGS...]

SCENARIO is a list of calls, {"tool": NAME, "args": {...}}. RESULT gets
the server's name, the listed tools, and for each call either
{"result": CallToolResult as JSON} or {"error": {"code", "message",
"data"}}. The whole run is bounded in time, so a hang fails the test.
"""

import json
import os
import sys

import anyio
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client


async def scenario(calls, log, command):
    here = os.path.dirname(os.path.abspath(__file__))
    params = StdioServerParameters(
        command=sys.executable,
        args=[os.path.join(here, "record.py"), log, *command],
        env=dict(os.environ),
    )
    out = {"calls": []}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["server"] = init.server_info.name
            listed = await session.list_tools()
            out["tools"] = [t.name for t in listed.tools]
            out["schemas"] = {t.name: t.input_schema for t in listed.tools}
            for call in calls:
                try:
                    result = await session.call_tool(
                        call["tool"], call.get("args"), read_timeout_seconds=60
                    )
                    out["calls"].append({"result": result.model_dump(mode="json", by_alias=True)})
                except MCPError as e:
                    out["calls"].append(
                        {"error": {"code": e.error.code, "message": e.error.message, "data": e.error.data}}
                    )
    return out


def main():
    calls = json.load(open(sys.argv[1]))
    result_path, log, command = sys.argv[2], sys.argv[3], sys.argv[4:]

    async def run():
        with anyio.fail_after(240):
            return await scenario(calls, log, command)

    out = anyio.run(run)
    with open(result_path, "w") as f:
        json.dump(out, f, indent=1)


main()
