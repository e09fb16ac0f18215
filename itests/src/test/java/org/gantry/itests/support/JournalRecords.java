package org.gantry.itests.support;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Properties;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Journal records as the engine's Journal writes them (its class is internal to the engine bundle):
 * magic {@code GJL1}, type, length, CRC-32 of type and payload, then the payload, an entry's
 * Properties text under its own {@code #crc32=} line; a {@code next} record says whether a
 * start-next the engine sent is settled. For tests that plant or time journal records.
 */
public final class JournalRecords {

  /** The record type of an execution's entry. */
  public static final byte ENTRY = 1;

  /** The record type that closes an execution's entry; its payload is the entry's key. */
  public static final byte CLOSED = 2;

  /** The record type that opens ({@code requested}) or settles a start-next. */
  public static final byte NEXT = 3;

  /** The zeros the engine writes after the records when it rewrites the log. */
  public static final int REGION = 64 * 1024;

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
    return frame(ENTRY, payload);
  }

  /**
   * @param key the closed entry's key, {@code jobId#executionNumber}
   * @return the framed record
   */
  public static byte[] closed(String key) {
    return frame(CLOSED, key.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The keys ({@code jobId#executionNumber}) of the entries a journal log holds open: entries not
   * followed by their closing record, read up to the zeros after the last record.
   *
   * @param log the journal.log file
   * @return the open keys, in the order they were first written
   * @throws IOException when it cannot be read, or a record is damaged
   */
  public static Set<String> openKeys(Path log) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(log));
    Set<String> open = new LinkedHashSet<>();
    while (b.remaining() >= 13) {
      int at = b.position();
      int magic = b.getInt();
      byte type = b.get();
      int length = b.getInt();
      b.getInt(); // the CRC, which the engine checks
      if (magic == 0) {
        break; // the zeros after the last record
      }
      if (magic != 0x474a4c31 || length < 0 || length > b.remaining()) {
        throw new IOException("no whole record at byte " + at + " of " + log);
      }
      byte[] payload = new byte[length];
      b.get(payload);
      if (type == CLOSED) {
        open.remove(new String(payload, StandardCharsets.UTF_8));
      } else if (type == NEXT) {
        continue; // not an entry
      } else {
        Properties p = new Properties();
        p.load(new StringReader(new String(payload, StandardCharsets.ISO_8859_1)));
        open.add(p.getProperty("jobId") + "#" + p.getProperty("executionNumber"));
      }
    }
    return open;
  }

  private static byte[] frame(byte type, byte[] payload) {
    CRC32 crc = new CRC32();
    crc.update(type);
    crc.update(payload);
    return ByteBuffer.allocate(13 + payload.length)
        .putInt(0x474a4c31)
        .put(type)
        .putInt(payload.length)
        .putInt((int) crc.getValue())
        .put(payload)
        .array();
  }
}
