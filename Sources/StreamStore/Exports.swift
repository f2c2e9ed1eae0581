// `import StreamStore` is the one import an application needs: the types of the layers below
// that appear in its API (records, headers, compression, flush policies, errors) come with it.
@_exported import StreamStoreFormat
@_exported import StreamStoreLog
