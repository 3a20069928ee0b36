'use strict'
// Which native module this platform needs, and the error to give when it cannot be loaded.
const { existsSync } = require('node:fs')
const { join } = require('node:path')
const pkg = require('./package.json')

const ARCHES = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }

/** The napi-rs platform name of a Rust target triple (`x86_64-unknown-linux-gnu` → `linux-x64-gnu`). */
function platformOfTriple(triple) {
  const [arch, , os, abi] = triple.split('-')
  return [os, ARCHES[arch] || arch, abi].filter(Boolean).join('-')
}

/** The C library of this Linux system: `gnu` when Node reports a glibc, else `musl`. */
function linuxLibc() {
  const header = process.report && process.report.getReport().header
  return header && header.glibcVersionRuntime ? 'gnu' : 'musl'
}

/** This process's platform name, as the native modules are named (`linux-x64-gnu`, `darwin-arm64`). */
function currentPlatform() {
  const libc = process.platform === 'linux' ? linuxLibc() : undefined
  return [process.platform, process.arch, libc].filter(Boolean).join('-')
}

/** The platforms this version of the package has prebuilt native modules for. */
function supportedPlatforms() {
  return pkg.napi.targets.map(platformOfTriple)
}

function installed(specifier) {
  try {
    require.resolve(specifier)
    return true
  } catch {
    return false
  }
}

function innermost(error) {
  let seen = error
  while (seen && seen.cause instanceof Error) seen = seen.cause
  return seen && seen.message
}

/**
 * The error for a failed load of the native module: it names this platform, the package that
 * carries its module, and either the platforms with prebuilt modules or why the one found failed.
 */
function nativeModuleError(cause) {
  const platform = currentPlatform()
  const supported = supportedPlatforms()
  const binary = `${pkg.napi.binaryName}.${platform}.node`
  const platformPackage = `${pkg.name}-${platform}`
  let message
  if (existsSync(join(__dirname, binary)) || installed(platformPackage)) {
    message =
      `${pkg.name}: the native module for ${platform} was found but failed to load: ` +
      `${innermost(cause) || cause}`
  } else if (supported.includes(platform)) {
    message =
      `${pkg.name}: the native module for ${platform} is not installed: its package ` +
      `${platformPackage} is an optional dependency that was left out (npm's --omit=optional ` +
      'or --no-optional, or a lockfile made on another platform). Reinstall ' +
      `${pkg.name} with optional dependencies, or add ${platformPackage}@${pkg.version}.`
  } else {
    message =
      `${pkg.name} ${pkg.version} has no native module for ${platform} ` +
      `(Node ${process.version}); prebuilt modules exist for ${supported.join(', ')}. ` +
      'To use another platform, build the module from source: `npm run build` in ' +
      'ltcg-streaming-node of a checkout of the repository.'
  }
  const error = new Error(message, { cause })
  error.code = 'NATIVE_MODULE_NOT_FOUND'
  error.platform = platform
  error.supportedPlatforms = supported
  return error
}

module.exports = { currentPlatform, nativeModuleError, platformOfTriple, supportedPlatforms }
