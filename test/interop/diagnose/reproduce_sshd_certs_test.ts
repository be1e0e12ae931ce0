import { reproduceTable } from "../../helpers/reproduce.ts";
import { SSHD_CERTS } from "./reproduce_sshd_certs.ts";

reproduceTable(SSHD_CERTS);
