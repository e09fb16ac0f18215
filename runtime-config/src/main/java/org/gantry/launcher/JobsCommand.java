package org.gantry.launcher;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** What {@code gantry jobs} needs besides the calls: job ids, document files, execution lines. */
final class JobsCommand {

  /** The most characters AWS IoT (and the hub) accept in a job document. */
  static final int MAX_DOCUMENT_CHARS = 32_768;

  private static final DateTimeFormatter JOB_ID_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT);
  private static final SecureRandom RANDOM = new SecureRandom();

  private JobsCommand() {}

  /**
   * A job id for when none is given: {@code job-<UTC yyyyMMdd-HHmmss>-<4 hex digits>}, 24
   * characters of {@code [a-zA-Z0-9_-]}, sortable by creation time; the random suffix keeps two
   * made in one second apart.
   */
  static String generateJobId() {
    return "job-"
        + JOB_ID_TIME.format(ZonedDateTime.now(ZoneOffset.UTC))
        + "-"
        + String.format(Locale.ROOT, "%04x", RANDOM.nextInt(0x10000));
  }

  /** Reads a job document file: UTF-8 text of at most 32,768 characters. */
  static String readDocument(Path file) throws ConfigException {
    String text;
    try {
      // A UTF-8 character is at most 4 bytes: anything larger cannot be a document, and is not
      // read into memory to find that out.
      long size = Files.size(file);
      if (size > 4L * MAX_DOCUMENT_CHARS) {
        throw new ConfigException(
            "the document "
                + file
                + " has "
                + size
                + " bytes; a job document has at most "
                + MAX_DOCUMENT_CHARS
                + " characters");
      }
      // Strict decoding: new String(bytes, UTF_8) would replace bad bytes silently.
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .decode(ByteBuffer.wrap(Files.readAllBytes(file)))
              .toString();
    } catch (NoSuchFileException e) {
      throw new ConfigException("cannot read the document " + file + ": there is no such file");
    } catch (AccessDeniedException e) {
      throw new ConfigException("cannot read the document " + file + ": permission denied");
    } catch (CharacterCodingException e) {
      throw new ConfigException(
          "cannot read the document " + file + ": it is not UTF-8 text (" + e + ")");
    } catch (IOException e) {
      throw new ConfigException(
          "cannot read the document "
              + file
              + ": "
              + (Files.isDirectory(file) ? "it is a folder" : e.toString()));
    }
    if (text.length() > MAX_DOCUMENT_CHARS) {
      throw new ConfigException(
          "the document "
              + file
              + " has "
              + text.length()
              + " characters; a job document has at most "
              + MAX_DOCUMENT_CHARS);
    }
    if (text.isBlank()) {
      throw new ConfigException("the document " + file + " is empty");
    }
    return text;
  }

  /** One execution on one line: thing, status, numbers, last update, statusDetails. */
  static String line(HubClient.Execution x, int thingWidth) {
    return String.format(
        Locale.ROOT,
        "  %-" + Math.max(1, thingWidth) + "s  %-11s  execution %d, version %d, updated %s  %s",
        x.thingName(),
        x.status(),
        x.executionNumber(),
        x.versionNumber(),
        Format.time(x.lastUpdatedAt()),
        Format.details(x.statusDetails()));
  }
}
