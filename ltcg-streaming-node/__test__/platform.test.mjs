// Loading the package where no native module fits: the error names the platform and what to do.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)
const { platformOfTriple, supportedPlatforms } = require('../platform.js')
const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))

/** Requires the package at `dir` in a child Node whose `process.arch` reads `arch`; the error it threw. */
function loadError(dir, arch = process.arch) {
  const script = `
    Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} })
    try {
      require(${JSON.stringify(join(dir, 'index.js'))})
      console.log(JSON.stringify(null))
    } catch (e) {
      console.log(JSON.stringify({ code: e.code, message: e.message, platform: e.platform,
        supported: e.supportedPlatforms, cause: Boolean(e.cause) }))
    }`
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))
}

/** A copy of the package's JavaScript, without any native module beside it. */
function packageCopy() {
  const dir = mkdtempSync(join(tmpdir(), 'ltcg-platform-'))
  for (const file of ['index.js', 'binding.js', 'platform.js', 'package.json']) {
    copyFileSync(join(packageDir, file), join(dir, file))
  }
  return dir
}

test('a platform without a prebuilt module is named, with the ones that have one', () => {
  const error = loadError(packageDir, 'riscv64')
  assert.equal(error.code, 'NATIVE_MODULE_NOT_FOUND')
  assert.equal(error.platform, 'linux-riscv64-gnu')
  assert.deepEqual(error.supported, ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu'])
  assert.match(error.message, /has no native module for linux-riscv64-gnu/)
  assert.match(error.message, /prebuilt modules exist for linux-x64-gnu, linux-x64-musl, linux-arm64-gnu/)
  assert.match(error.message, /npm run build/)
  assert.doesNotMatch(error.message, /npm has a bug/)
  assert.ok(error.cause, 'the loader errors are kept as the cause')
})

test('a supported platform whose optional package was left out names that package', () => {
  const error = loadError(packageDir, 'arm64')
  assert.equal(error.platform, 'linux-arm64-gnu')
  assert.match(error.message, /native module for linux-arm64-gnu is not installed/)
  assert.match(error.message, new RegExp(`@ltcg/streaming-linux-arm64-gnu@${pkg.version.replace(/\./g, '\\.')}`))
  assert.match(error.message, /--omit=optional/)
})

test('a module that is present but cannot load says why', () => {
  const dir = packageCopy()
  try {
    writeFileSync(join(dir, 'ltcg-streaming.linux-x64-gnu.node'), 'not a shared object')
    const error = loadError(dir, 'x64')
    assert.equal(error.code, 'NATIVE_MODULE_NOT_FOUND')
    assert.match(error.message, /native module for linux-x64-gnu was found but failed to load: .*(invalid ELF header|too short)/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the module built here loads through the same entry point', () => {
  assert.equal(loadError(packageDir), null)
})

test('each target has a platform package matching it, at the package version', () => {
  const platforms = supportedPlatforms()
  assert.deepEqual(platforms, pkg.napi.targets.map(platformOfTriple))
  assert.equal(platformOfTriple('aarch64-unknown-linux-gnu'), 'linux-arm64-gnu')
  assert.equal(platformOfTriple('x86_64-apple-darwin'), 'darwin-x64')
  assert.deepEqual(readdirSync(join(packageDir, 'npm')).sort(), [...platforms].sort())
  for (const platform of platforms) {
    const sub = JSON.parse(readFileSync(join(packageDir, 'npm', platform, 'package.json'), 'utf8'))
    const [os, cpu, libc] = platform.split('-')
    assert.equal(sub.name, `${pkg.name}-${platform}`)
    assert.equal(sub.version, pkg.version)
    // npm calls the GNU C library `glibc`.
    assert.deepEqual([sub.os, sub.cpu, sub.libc], [[os], [cpu], [libc === 'gnu' ? 'glibc' : libc]])
    assert.equal(sub.main, `${pkg.napi.binaryName}.${platform}.node`)
    assert.deepEqual(sub.files, [sub.main])
  }
})
