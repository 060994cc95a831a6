import strawberry
from strawberry.asgi import GraphQL


@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


def make_graphql_app(settings):
    return GraphQL(strawberry.Schema(query=Query))
