/** @type {import('next').NextConfig} */
const nextConfig = {
  // The library is a native Node module: Next must load it with Node's require, not bundle it
  // (both Next 15 and 16 fail to build without this).
  serverExternalPackages: ['@ltcg/streaming'],
}

export default nextConfig
