"""Reading and writing the project's files: instances, savings models, tables, and where the
shipped ones live. Everything here validates as it reads and names the file, the line or key,
and what is wrong."""
