package org.gantry.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.EnumSet;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EnumsTest {
  @Test
  void terminalAndDeviceSettableStatuses() {
    EnumSet<ExecutionStatus> terminal = EnumSet.noneOf(ExecutionStatus.class);
    EnumSet<ExecutionStatus> settable = EnumSet.noneOf(ExecutionStatus.class);
    for (ExecutionStatus s : ExecutionStatus.values()) {
      if (s.isTerminal()) {
        terminal.add(s);
      }
      if (s.isDeviceSettable()) {
        settable.add(s);
      }
    }
    assertEquals(
        EnumSet.of(
            ExecutionStatus.SUCCEEDED,
            ExecutionStatus.FAILED,
            ExecutionStatus.TIMED_OUT,
            ExecutionStatus.REJECTED,
            ExecutionStatus.REMOVED,
            ExecutionStatus.CANCELED),
        terminal);
    assertEquals(
        EnumSet.of(
            ExecutionStatus.IN_PROGRESS,
            ExecutionStatus.SUCCEEDED,
            ExecutionStatus.FAILED,
            ExecutionStatus.REJECTED),
        settable);
  }

  @Test
  void errorCodesHaveTheirWireNames() {
    String[] wire = {
      "InvalidTopic",
      "InvalidJson",
      "InvalidRequest",
      "InvalidStateTransition",
      "ResourceNotFound",
      "VersionMismatch",
      "InternalError",
      "RequestThrottled",
      "TerminalStateReached"
    };
    assertEquals(wire.length, ErrorCode.values().length);
    for (int i = 0; i < wire.length; i++) {
      assertEquals(wire[i], ErrorCode.values()[i].wireName());
      assertEquals(Optional.of(ErrorCode.values()[i]), ErrorCode.fromWire(wire[i]));
    }
    assertEquals(Optional.empty(), ErrorCode.fromWire("versionMismatch"));
    assertEquals(Optional.empty(), ErrorCode.fromWire("VERSION_MISMATCH"));
    assertEquals(Optional.empty(), ErrorCode.fromWire(null));
  }
}
