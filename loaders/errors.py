"""The one exception the landing library raises for problems a user can act on."""


class LoaderError(Exception):
    """A file that cannot be used, or a load that could not complete, told in one paragraph."""
