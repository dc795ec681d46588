"""Value types and names shared by every layer: money, categories, visit kinds."""
