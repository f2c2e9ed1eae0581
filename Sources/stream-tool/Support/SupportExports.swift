// The tool's text formats (the JSON line parser, base64 decoding, UTF-8 validation, ISO 8601
// times) live in the StreamToolSupport library, so the fuzz targets in Fuzz/ can drive them.
// Re-exported here so every file of the tool, and its tests, see them as before.
@_exported import StreamToolSupport
