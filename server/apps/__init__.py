"""Screens that are not workflows: home, profiles, tasks, settings."""
