import { reproduceTable } from "../../helpers/reproduce.ts";
import { SSHD_LEGACY } from "./reproduce_sshd_legacy.ts";

reproduceTable(SSHD_LEGACY);
