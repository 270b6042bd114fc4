"""Fakes of the services we cannot run here (Botify, Ollama), speaking their real HTTP protocols on 127.0.0.1."""
