package org.gantry.engine.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {

  /** Everything Properties text must escape, and characters beyond Latin-1. */
  private static final String AWKWARD =
      " leading space, = : # ! \\ tab\there\nnew line\r\f, \u0001, caf\u00e9, \u20ac 10, \u6f22\u5b57,"
          + " \ud83d\ude80 ";

  @Test
  void anEntryWithAwkwardTextComesBackUnchanged() throws Exception {
    Journal.Entry e =
        new Journal.Entry(
            "job-1",
            3,
            7,
            Journal.Phase.REPORTING,
            5,
            "{\"operation\":\"diagnostics\",\"note\":\"" + AWKWARD + "\"}",
            "FAILED",
            Map.of("reason", AWKWARD, " key with = and : ", "v"),
            Map.of("offset", "1024", "name#1", AWKWARD));

    byte[] encoded = Journal.encode(e);

    // The payload is printable ASCII (plus newlines): nothing is lost when it is stored as Latin-1.
    String text = new String(encoded, StandardCharsets.ISO_8859_1);
    assertTrue(text.chars().allMatch(c -> c == '\n' || (c >= 0x20 && c <= 0x7e)), text);
    assertEquals(e, Journal.decode(encoded));
  }

  @Test
  void theEncodingIsAFunctionOfTheEntry() {
    Journal.Entry e =
        new Journal.Entry(
            "job-2",
            1,
            1,
            Journal.Phase.ACTIVE,
            2,
            "{}",
            null,
            Map.of(),
            Map.of("b", "2", "a", "1"));
    Journal.Entry same =
        new Journal.Entry(
            "job-2",
            1,
            1,
            Journal.Phase.ACTIVE,
            2,
            "{}",
            null,
            Map.of(),
            Map.of("a", "1", "b", "2"));

    assertEquals(
        new String(Journal.encode(e), StandardCharsets.ISO_8859_1),
        new String(Journal.encode(same), StandardCharsets.ISO_8859_1));
  }

  @Test
  void aDocumentBeyondLatin1SurvivesAReopen(@TempDir Path dir) throws Exception {
    String document = "{\"operation\":\"diagnostics\",\"label\":\"" + AWKWARD + "\"}";
    Journal journal = new Journal(dir);
    Journal.Entry e = journal.create("job-3", 1, 1, document);
    journal.write(e);
    journal.close();

    Journal reopened = new Journal(dir);
    try {
      List<Journal.Entry> open = reopened.open();
      assertEquals(1, open.size());
      assertEquals(document, open.get(0).document());
    } finally {
      reopened.close();
    }
  }
}
