"""Prints the schema as SDL: `make schema` writes it to schema.graphql."""

from strawberry.printer import print_schema

from api.settings import Settings
from resolvers.schema import build_schema


def printed_schema() -> str:
    return print_schema(build_schema(Settings())) + "\n"


if __name__ == "__main__":
    print(printed_schema(), end="")
