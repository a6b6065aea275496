//! The rmcp server handler: lists the tools, reads each call's arguments,
//! hands the call to the backend's thread, and turns the answer into a
//! tool result or a protocol error.

use std::sync::mpsc::Sender;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorCode,
    Implementation, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig,
    Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Value};

use super::tools::{self, Refusal, RefusalKind};
use super::Job;

/// vault's own JSON-RPC error code for a call the identity may not make
/// now (an expired agent) or that the vault refused (a trust check).
const REFUSED: ErrorCode = ErrorCode(-32001);

struct Handler {
    jobs: Sender<Job>,
    tools: Vec<Tool>,
    about: String,
}

/// Serves until the host closes stdin.
pub(super) async fn run(jobs: Sender<Job>, about: String) -> std::io::Result<()> {
    let tools = tools::definitions(&about)
        .into_iter()
        .map(|(name, description, schema)| {
            let Value::Object(schema) = schema else {
                unreachable!("every schema is an object")
            };
            Tool::new(name, description, Arc::new(schema))
        })
        .collect();
    let handler = Handler { jobs, tools, about };
    let service = handler
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    service.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("vault", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "Secrets from the user's vault, by name only: no tool ever returns a value. \
                 Use run to give a command the secrets it needs; request_secret when one is missing. {}",
                self.about
            ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let call = tools::parse(&request.name, request.arguments).map_err(protocol_error)?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Job { call, reply })
            .map_err(|_| ErrorData::internal_error("vault mcp is shutting down", None))?;
        let reply = answer
            .await
            .map_err(|_| ErrorData::internal_error("vault mcp dropped the call", None))?
            .map_err(protocol_error)?;
        let text = serde_json::to_string_pretty(&reply.value)
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let mut result = if reply.failed {
            CallToolResult::error(vec![ContentBlock::text(text)])
        } else {
            CallToolResult::success(vec![ContentBlock::text(text)])
        };
        result.structured_content = Some(reply.value);
        Ok(result.into())
    }
}

fn protocol_error(refusal: Refusal) -> ErrorData {
    let code = match refusal.kind {
        RefusalKind::InvalidParams => ErrorCode::INVALID_PARAMS,
        RefusalKind::Refused => REFUSED,
    };
    let data = refusal.hint.map(|hint| json!({ "hint": hint }));
    ErrorData::new(code, refusal.message, data)
}
