// The package is a native Node addon: keep it out of the server bundle (Next 15; on Next 14 use
// `experimental.serverComponentsExternalPackages`).
const nextConfig = { serverExternalPackages: ['@ltcg/streaming'] }

export default nextConfig
