"""Teaches drf-spectacular our bearer scheme, so /api/docs/ offers "Authorize"."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "an agent token (alk_agt_…) or a personal token (alk_usr_…)",
        }
