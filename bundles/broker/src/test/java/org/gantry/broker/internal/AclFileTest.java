package org.gantry.broker.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AclFileTest {

  private static final String FILTER = "$aws/things/t/jobs/#";

  @TempDir Path dir;

  private void replace(Path file, String text) throws Exception {
    Path tmp = dir.resolve("acl.tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void refusesEverythingUntilAGoodFileIsRead() throws Exception {
    Path file = dir.resolve("acl");
    try (AclFile acl = new AclFile(file)) {
      assertSame(AclRules.DENY_ALL, acl.rules(), "missing file: nothing allowed");
      replace(file, "user gw\ntopic readwrite $aws/things/t/jobs/#/bad\n");
      acl.check();
      assertSame(AclRules.DENY_ALL, acl.rules(), "malformed file at start: nothing allowed");
      replace(file, "user gw\ntopic readwrite " + FILTER + "\n");
      acl.check();
      assertTrue(acl.rules().canRead("gw", "c", FILTER));
    }
  }

  @Test
  void keepsTheLastGoodRulesWhenTheFileTurnsBadOrDisappears() throws Exception {
    Path file = dir.resolve("acl");
    replace(file, "user gw\ntopic readwrite " + FILTER + "\n");
    try (AclFile acl = new AclFile(file)) {
      AclRules good = acl.rules();
      assertTrue(good.canRead("gw", "c", FILTER));
      replace(file, "user gw\nnonsense\n");
      acl.check();
      assertSame(good, acl.rules());
      Files.delete(file);
      acl.check();
      assertSame(good, acl.rules());
      replace(file, "user other\ntopic readwrite " + FILTER + "\n");
      acl.check();
      assertFalse(acl.rules().canRead("gw", "c", FILTER));
      assertTrue(acl.rules().canRead("other", "c", FILTER));
    }
  }

  @Test
  void noticesAReplacedFileByItselfWithinSeconds() throws Exception {
    Path file = dir.resolve("acl");
    replace(file, "user gw\ntopic readwrite " + FILTER + "\n");
    try (AclFile acl = new AclFile(file)) {
      long seen = acl.changes();
      replace(file, "user gw\ntopic readwrite $aws/things/u/jobs/#\n");
      assertTrue(acl.awaitChanges(seen, 10_000), "the change is seen without a call to check()");
      assertFalse(acl.rules().canRead("gw", "c", FILTER));
      assertTrue(acl.rules().canRead("gw", "c", "$aws/things/u/jobs/#"));
    }
  }
}
