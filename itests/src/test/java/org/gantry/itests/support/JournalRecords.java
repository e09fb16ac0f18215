package org.gantry.itests.support;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Journal records as the engine's Journal writes them (its class is internal to the engine bundle):
 * magic {@code GJL1}, type, length, CRC-32 of type and payload, then the payload, an entry's
 * Properties text under its own {@code #crc32=} line. For tests that plant or time journal records.
 */
public final class JournalRecords {

  /** The record type of an execution's entry. */
  public static final byte ENTRY = 1;

  private JournalRecords() {}

  /**
   * @param body the entry's Properties lines, sorted, each ending with a newline
   * @return the framed record
   */
  public static byte[] entry(String body) {
    CRC32 bodyCrc = new CRC32();
    bodyCrc.update(body.getBytes(StandardCharsets.ISO_8859_1));
    byte[] payload =
        ("#crc32=" + Long.toHexString(bodyCrc.getValue()) + "\n" + body)
            .getBytes(StandardCharsets.ISO_8859_1);
    CRC32 crc = new CRC32();
    crc.update(ENTRY);
    crc.update(payload);
    return ByteBuffer.allocate(13 + payload.length)
        .putInt(0x474a4c31)
        .put(ENTRY)
        .putInt(payload.length)
        .putInt((int) crc.getValue())
        .put(payload)
        .array();
  }
}
