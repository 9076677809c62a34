"""pytest-friendly assertions, so that a user's own test suite ties their code to their theorem in one line."""
from .checks import check_upper_bound


def assert_upper_bound_holds(function, rule, rule_params, bound, instances, **options):
    """Fail (AssertionError) unless check_upper_bound(...) says "holds"; the message names the deciding instance.
    Returns the UpperBoundCheck for further assertions."""
    result = check_upper_bound(function, rule, rule_params, bound, instances, **options)
    if not result.holds:
        w = result.worst
        raise AssertionError(f"{result.name}: {result.verdict}: T_eps = {w['measured']:g} against the bound "
                             f"{w['bound']:g} (ratio {w['ratio']:.4g}) from x0 = {w['x0']}, eps = {w['eps']:g}"
                             + ("; " + "; ".join(result.notes) if result.notes else ""))
    return result
