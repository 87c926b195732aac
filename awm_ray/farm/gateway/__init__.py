"""HTTP access to the farm for processes that are not Ray drivers (`RemoteFarm` is its client).

A thin transport over the client API (`Farm` / `Episode`): the dependency runs one way, gateway ->
client. Leases are held by the gateway for their remote clients; a call, renewal or release must
carry the lease's token (`Authorization: Bearer <token>`).

    POST   /v1/leases                {"scenario", "timeout_s"?}     -> 201 {lease_id, token, tools, lease_ttl_s, ...}
    POST   /v1/leases/renew          {"leases": [{lease_id, token}, ...]}  -> {renewed, lost: [ids]}
    POST   /v1/leases/{id}/calls     {"tool", "arguments"?}         -> {text, status, error, ok, ...}
    POST   /v1/leases/{id}/renew                                    -> 204
    DELETE /v1/leases/{id}                                          -> 204
    GET    /v1/health   GET /v1/stats   GET /v1/scenarios

Errors: `{"error": KIND, "detail": TEXT}` (`awm_ray.farm.gateway.app`). Leases live as long as
their client renews them (`awm_ray.farm.gateway.leases`).

Extending (e.g. an MCP server per lease): pass `extensions` to `build_app` (callables) or to
`start_gateway` ("module:function" names); each gets the app and the `LeaseTable`, adds routes or
mounts, and may return an async context entered for the app's lifetime.
"""

from awm_ray.farm.gateway.app import GatewayExtension, build_app, error_response
from awm_ray.farm.gateway.leases import LeaseTable, bearer
from awm_ray.farm.gateway.server import GatewayServer, check_bind, start_gateway

__all__ = [
    "GatewayExtension",
    "GatewayServer",
    "LeaseTable",
    "bearer",
    "build_app",
    "check_bind",
    "error_response",
    "start_gateway",
]
