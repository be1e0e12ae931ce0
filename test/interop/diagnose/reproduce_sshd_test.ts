import { reproduceTable } from "../../helpers/reproduce.ts";
import { SSHD } from "./reproduce_sshd.ts";

reproduceTable(SSHD);
