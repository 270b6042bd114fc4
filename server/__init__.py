"""Pipedeck's FastHTML server: engine, workflows, apps, LLM, Botify client and graph viewer."""
